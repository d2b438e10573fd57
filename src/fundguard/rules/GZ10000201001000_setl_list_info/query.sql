-- 医保结算清单信息异常: completeness, consistency and plausibility checks on each settlement and its
-- 清单 data (diagnoses, stay dates, amount identities). One finding per settlement listing every defect.
WITH main_diag AS (
    -- speed: only main-diagnosis rows are counted (a visit without any has no row: n_main 0)
    SELECT mdtrt_id, count(*) AS n_main
    FROM diag
    WHERE maindiag_flag = '1'
    GROUP BY mdtrt_id
),
-- Speed (20M lines): the settlements that can have a defect are found first, each check on the narrowest rows
-- that decide it (amount identities on setl alone; stay and diagnosis defects on the visits, then their
-- settlements; person/institution against the visit on key columns only); the wide checks below run only for them.
-- The line sum comes from the shared relation setl_fee (lines aggregated per settlement and visit): a settlement
-- whose lines all carry its own visit has one such row, so its line sum is that row's; one with lines of another
-- (or no) visit is always a candidate.
bad_visit AS (
    SELECT mdtrt_id FROM main_diag WHERE n_main > 1
    UNION ALL
    SELECT mdtrt_id FROM mdtrt WHERE (is_inpatient AND endtime IS NULL) OR endtime < begntime
    UNION ALL
    SELECT m.mdtrt_id
    FROM mdtrt m
    LEFT JOIN main_diag d ON d.mdtrt_id = m.mdtrt_id
    WHERE m.is_inpatient AND coalesce(m.dscg_maindiag_code, '') = '' AND d.mdtrt_id IS NULL
),
candidate AS (
    SELECT setl_id
    FROM setl s
    WHERE coalesce(s.refd_setl_flag, '0') <> '1'
        AND (abs(s.medfee_sumamt - (s.fund_pay_sumamt + coalesce(s.psn_part_amt, s.acct_pay + s.psn_cash_pay)
                + coalesce(s.hosp_part_amt, 0))) > ${tolerance}
            OR s.psn_part_amt - (s.acct_pay + s.psn_cash_pay) < -${tolerance}
            OR (coalesce(s.cvlserv_pay, s.hifes_pay, s.hifmi_pay, s.hifob_pay, s.maf_pay, s.oth_pay) IS NOT NULL
                AND abs(s.fund_pay_sumamt - (s.hifp_pay + coalesce(s.cvlserv_pay, 0) + coalesce(s.hifes_pay, 0)
                + coalesce(s.hifmi_pay, 0) + coalesce(s.hifob_pay, 0) + coalesce(s.maf_pay, 0) + coalesce(s.oth_pay, 0)))
                > ${tolerance})
            OR s.hifp_pay - s.fund_pay_sumamt > ${tolerance}
            OR s.inscp_scp_amt - s.medfee_sumamt > ${tolerance}
            OR s.mdtrt_id IN (SELECT mdtrt_id FROM bad_visit))
    UNION
    SELECT s.setl_id
    FROM setl s
    LEFT JOIN mdtrt m ON m.mdtrt_id = s.mdtrt_id
    WHERE coalesce(s.refd_setl_flag, '0') <> '1'
        AND (m.mdtrt_id IS NULL OR m.psn_no <> s.psn_no OR m.fixmedins_code <> s.fixmedins_code)
    UNION
    SELECT a.setl_id
    FROM setl_fee a JOIN setl s ON s.setl_id = a.setl_id
    WHERE coalesce(s.refd_setl_flag, '0') <> '1'
        AND (a.mdtrt_id IS DISTINCT FROM s.mdtrt_id OR abs(s.medfee_sumamt - a.fee_sumamt) > ${tolerance})
),
line_sum AS (
    SELECT setl_id, sum(fee_sumamt) AS lines_total, sum(n_lines) AS n_lines
    FROM setl_fee
    WHERE setl_id IN (SELECT setl_id FROM candidate)
    GROUP BY setl_id
),
checked AS (
    SELECT
        s.setl_id,
        s.mdtrt_id,
        s.psn_no,
        s.fixmedins_code,
        s.setl_time,
        m.chfpdr_code,
        CASE WHEN m.mdtrt_id IS NULL THEN 1 ELSE 0 END AS no_visit,
        CASE WHEN m.mdtrt_id IS NOT NULL AND (m.psn_no <> s.psn_no OR m.fixmedins_code <> s.fixmedins_code)
            THEN 1 ELSE 0 END AS id_mismatch,
        CASE WHEN m.is_inpatient AND coalesce(d.n_main, 0) = 0 AND coalesce(m.dscg_maindiag_code, '') = ''
            THEN 1 ELSE 0 END AS no_main_diag,
        CASE WHEN coalesce(d.n_main, 0) > 1 THEN 1 ELSE 0 END AS multi_main_diag,
        CASE WHEN m.is_inpatient AND m.endtime IS NULL THEN 1 ELSE 0 END AS no_endtime,
        CASE WHEN m.endtime IS NOT NULL AND m.endtime < m.begntime THEN 1 ELSE 0 END AS end_before_begin,
        -- medfee = fund + 个人负担 (psn_part_amt, else acct + cash) + 医院负担, as the national setlinfo defines
        CASE WHEN abs(s.medfee_sumamt - (s.fund_pay_sumamt + coalesce(s.psn_part_amt, s.acct_pay + s.psn_cash_pay)
            + coalesce(s.hosp_part_amt, 0))) > ${tolerance} THEN 1 ELSE 0 END AS total_mismatch,
        CASE WHEN s.psn_part_amt IS NOT NULL AND s.psn_part_amt - (s.acct_pay + s.psn_cash_pay) < -${tolerance}
            THEN 1 ELSE 0 END AS part_mismatch,
        -- the fund parts are compared only when the record carries parts beyond hifp_pay (else some are unrecorded)
        CASE WHEN coalesce(s.cvlserv_pay, s.hifes_pay, s.hifmi_pay, s.hifob_pay, s.maf_pay, s.oth_pay) IS NOT NULL
            AND abs(s.fund_pay_sumamt - (s.hifp_pay + coalesce(s.cvlserv_pay, 0) + coalesce(s.hifes_pay, 0)
            + coalesce(s.hifmi_pay, 0) + coalesce(s.hifob_pay, 0) + coalesce(s.maf_pay, 0) + coalesce(s.oth_pay, 0)))
            > ${tolerance} THEN 1 ELSE 0 END AS fund_mismatch,
        CASE WHEN s.hifp_pay - s.fund_pay_sumamt > ${tolerance} THEN 1 ELSE 0 END AS hifp_over_fund,
        CASE WHEN s.inscp_scp_amt - s.medfee_sumamt > ${tolerance} THEN 1 ELSE 0 END AS inscp_over_total,
        CASE WHEN l.n_lines IS NOT NULL AND abs(s.medfee_sumamt - l.lines_total) > ${tolerance} THEN 1 ELSE 0 END
            AS lines_mismatch,
        s.medfee_sumamt,
        s.fund_pay_sumamt,
        s.acct_pay,
        s.psn_cash_pay,
        l.lines_total
    FROM setl s
    LEFT JOIN mdtrt m ON m.mdtrt_id = s.mdtrt_id
    LEFT JOIN main_diag d ON d.mdtrt_id = s.mdtrt_id
    LEFT JOIN line_sum l ON l.setl_id = s.setl_id
    WHERE coalesce(s.refd_setl_flag, '0') <> '1' AND s.setl_id IN (SELECT setl_id FROM candidate)
),
described AS (
    SELECT
        c.*,
        CASE WHEN no_visit = 1 THEN '无对应就诊信息；' ELSE '' END
        || CASE WHEN id_mismatch = 1 THEN '结算与就诊的人员或机构不一致；' ELSE '' END
        || CASE WHEN no_main_diag = 1 THEN '住院结算缺少主要诊断；' ELSE '' END
        || CASE WHEN multi_main_diag = 1 THEN '主要诊断多于一个；' ELSE '' END
        || CASE WHEN no_endtime = 1 THEN '住院结算缺少出院时间；' ELSE '' END
        || CASE WHEN end_before_begin = 1 THEN '出院时间早于入院时间；' ELSE '' END
        || CASE WHEN total_mismatch = 1 THEN '医疗费总额≠基金支付+个人负担+医院负担；' ELSE '' END
        || CASE WHEN part_mismatch = 1 THEN '个人负担总金额小于个人账户与个人现金支出之和；' ELSE '' END
        || CASE WHEN fund_mismatch = 1 THEN '基金支付总额≠各项基金支出之和；' ELSE '' END
        || CASE WHEN hifp_over_fund = 1 THEN '统筹基金支出大于基金支付总额；' ELSE '' END
        || CASE WHEN inscp_over_total = 1 THEN '符合政策范围金额大于医疗费总额；' ELSE '' END
        || CASE WHEN lines_mismatch = 1 THEN '医疗费总额与费用明细合计不符；' ELSE '' END AS defects
    FROM checked c
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    setl_id,
    mdtrt_id,
    psn_no,
    fixmedins_code,
    chfpdr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(setl_time AS TIMESTAMP) AS occur_time,
    CAST(0 AS DECIMAL(16, 2)) AS violation_amount,
    '医保结算清单信息异常：' || substr(defects, 1, length(defects) - 1) AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    defects || '医疗费总额=' || CAST(medfee_sumamt AS VARCHAR) || '；基金支付总额='
        || CAST(fund_pay_sumamt AS VARCHAR) || '；个人账户=' || CAST(acct_pay AS VARCHAR) || '；个人现金='
        || CAST(psn_cash_pay AS VARCHAR) || '；明细合计=' || coalesce(CAST(lines_total AS VARCHAR), '无明细') AS detail
FROM described
WHERE defects <> ''
