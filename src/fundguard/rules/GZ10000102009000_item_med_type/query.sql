-- 医疗服务项目限就医方式: a 住院-only 医疗服务项目 on a non-inpatient visit, or a 门诊-only one on an inpatient visit.
WITH refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
line AS (
    -- original lines net of their refunds; fully refunded lines drop out. The setting is the line's own 医疗类别,
    -- its visit's only when it has none (decision 0019)
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt,
        f.line_is_inpatient AS is_inpatient, f.med_type AS visit_med_type
    FROM fee f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.init_feedetl_sn IS NULL
      AND f.med_type IS NOT NULL
      AND f.cnt + coalesce(r.refund_cnt, 0) > 0
    UNION ALL
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt,
        v.is_inpatient, v.med_type AS visit_med_type
    FROM fee f
    JOIN mdtrt v ON v.mdtrt_id = f.mdtrt_id
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.init_feedetl_sn IS NULL
      AND f.med_type IS NULL
      AND f.cnt + coalesce(r.refund_cnt, 0) > 0
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.limit_value,
        k.limit_num,
        l.is_inpatient,
        l.visit_med_type,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'item_med_type'
        AND k.limit_value IN ('住院', '门诊')
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
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
    CAST(net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限' || limit_value || '使用，本次就医方式为' || CASE WHEN is_inpatient THEN '住院' ELSE '非住院' END || '（医疗类别' || visit_med_type || '）' AS message,
    kp_id,
    '限定就医方式=' || limit_value || '；医疗类别=' || visit_med_type AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND ((limit_value = '住院' AND NOT is_inpatient) OR (limit_value = '门诊' AND is_inpatient))
