-- 结算明细信息异常: missing or wrong fields on fee-detail lines: amount ≠ quantity × price, in-scope
-- amount above the line total, person/institution/settlement not matching the visit, missing prescriber
-- or department, refund lines without the line they reverse, national code not in the shape of its
-- 目录类别. One finding per line listing every defect; the amount is the overstated part, if any.
WITH checked AS (
    SELECT
        f.feedetl_sn,
        f.setl_id,
        f.mdtrt_id,
        f.psn_no,
        f.fixmedins_code,
        f.bilg_dr_codg,
        f.med_list_codg,
        f.fee_ocur_time,
        f.list_type,
        f.cnt,
        f.pric,
        f.det_item_fee_sumamt,
        f.inscp_scp_amt,
        f.det_item_fee_sumamt - CAST(f.cnt * f.pric AS DECIMAL(16, 2)) AS sum_diff,
        -- refund lines carry negative amounts: compare magnitudes
        abs(coalesce(f.inscp_scp_amt, 0)) - abs(f.det_item_fee_sumamt) AS inscp_diff,
        CASE WHEN m.mdtrt_id IS NULL THEN 1 ELSE 0 END AS no_visit,
        CASE WHEN m.mdtrt_id IS NOT NULL AND (m.psn_no <> f.psn_no OR m.fixmedins_code <> f.fixmedins_code)
            THEN 1 ELSE 0 END AS visit_mismatch,
        CASE WHEN s.setl_id IS NOT NULL AND s.mdtrt_id <> f.mdtrt_id THEN 1 ELSE 0 END AS setl_mismatch,
        CASE WHEN coalesce(f.bilg_dr_codg, '') = '' OR coalesce(f.bilg_dept_codg, '') = '' THEN 1 ELSE 0 END
            AS no_prescriber,
        CASE WHEN f.cnt < 0 AND coalesce(f.init_feedetl_sn, '') = '' THEN 1 ELSE 0 END AS refund_unlinked,
        CASE
            WHEN f.list_type = '201' AND length(f.med_list_codg) <> 15 THEN 1
            WHEN f.list_type = '301' AND NOT (length(f.med_list_codg) = 20 AND substr(f.med_list_codg, 1, 1) = 'C') THEN 1
            WHEN f.list_type = '101' AND NOT (length(f.med_list_codg) IN (20, 23) AND substr(f.med_list_codg, 1, 1) IN ('X', 'Z'))
                THEN 1
            ELSE 0
        END AS bad_code
    FROM fee f
    LEFT JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
    LEFT JOIN setl s ON s.setl_id = f.setl_id
),
flagged AS (
    -- speed: the defect text is built only for the lines with a defect (a few), not for all 20M
    SELECT *
    FROM checked
    WHERE abs(sum_diff) > ${tolerance} OR inscp_diff > ${tolerance} OR no_visit = 1 OR visit_mismatch = 1
        OR setl_mismatch = 1 OR no_prescriber = 1 OR refund_unlinked = 1 OR bad_code = 1
),
described AS (
    SELECT
        c.*,
        CASE WHEN abs(sum_diff) > ${tolerance} THEN '明细金额≠数量×单价；' ELSE '' END
        || CASE WHEN inscp_diff > ${tolerance} THEN '符合政策范围金额大于明细总额；' ELSE '' END
        || CASE WHEN no_visit = 1 THEN '无对应就诊信息；' ELSE '' END
        || CASE WHEN visit_mismatch = 1 THEN '明细的人员或机构与就诊不一致；' ELSE '' END
        || CASE WHEN setl_mismatch = 1 THEN '明细所属结算不是本次就诊的结算；' ELSE '' END
        || CASE WHEN no_prescriber = 1 THEN '缺少开单医生或开单科室；' ELSE '' END
        || CASE WHEN refund_unlinked = 1 THEN '退费明细缺少原费用流水号；' ELSE '' END
        || CASE WHEN bad_code = 1 THEN '医疗目录编码与目录类别的国家编码格式不符；' ELSE '' END AS defects,
        CASE WHEN cnt > 0 AND sum_diff > ${tolerance} THEN sum_diff ELSE 0 END
        + CASE WHEN cnt > 0 AND inscp_diff > ${tolerance} THEN inscp_diff ELSE 0 END AS overstated
    FROM flagged c
)
SELECT
    feedetl_sn,
    setl_id,
    mdtrt_id,
    psn_no,
    fixmedins_code,
    bilg_dr_codg,
    med_list_codg,
    CAST(fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(overstated AS DECIMAL(16, 2)) AS violation_amount,
    '结算明细信息异常：' || substr(defects, 1, length(defects) - 1) AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    defects || '数量=' || CAST(cnt AS VARCHAR) || '；单价=' || CAST(pric AS VARCHAR) || '；明细总额='
        || CAST(det_item_fee_sumamt AS VARCHAR) || '；符合政策范围金额=' || coalesce(CAST(inscp_scp_amt AS VARCHAR), '空')
        || '；目录类别=' || coalesce(list_type, '空') AS detail
FROM described
WHERE defects <> ''
