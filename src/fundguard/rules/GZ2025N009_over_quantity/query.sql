-- 药品限最大开药天数/开药量: an outpatient drug line whose prd_days (开药天数) exceeds the maximum for the
-- visit's setting: 急诊 (med_type 13), 慢特病 (14, 门诊慢特病 / 长期处方) or 门诊 (every other non-inpatient visit,
-- pharmacy purchases included). A knowledge point for the exact drug code beats a class prefix; the longest
-- prefix wins; a region's point beats a national one; limit_value 'all' applies to every setting.
-- Speed (20M lines): lines are kept narrow until the winning point is known; the setting is part of the join key
-- (a point applies to its setting, 'all' to every setting); the exact code and each prefix length that occurs are
-- one keyed hash join. A line's setting is its
-- own 医疗类别 (the backend fee table carries it), its visit's only when it has none (decision 0019); lines not
-- over the smallest limit of their setting are dropped before the refunds are netted.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, limit_num, limit_value, admdvs, begndate, enddate,
        -- match key: the exact code (length 0), else the class prefix (its length)
        coalesce(med_list_codg, code_prefix) AS mkey,
        CASE WHEN med_list_codg IS NOT NULL THEN 0 ELSE length(code_prefix) END AS mlen
    FROM kb
    WHERE kp_type = 'drug_max_days' AND limit_num IS NOT NULL
        AND (med_list_codg IS NOT NULL OR code_prefix IS NOT NULL)
),
ik_setting AS (
    SELECT ik.*, s.setting
    FROM ik
    JOIN (SELECT '急诊' AS setting UNION ALL SELECT '慢特病' UNION ALL SELECT '门诊') s
        ON ik.limit_value = s.setting OR ik.limit_value = 'all'
),
setting_min AS (
    -- a line cannot exceed its winning point's limit unless it exceeds the smallest limit of its setting
    SELECT setting, min(limit_num) AS min_limit FROM ik_setting GROUP BY setting
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
otp_line AS (
    SELECT f.feedetl_sn, f.fixmedins_code, f.med_list_codg, f.fee_date, f.prd_days, f.cnt, f.amt,
        f.setl_id, f.mdtrt_id, f.psn_no, f.bilg_dr_codg, f.hilist_name, f.fee_ocur_time,
        f.med_type AS visit_med_type
    FROM fee f
    WHERE f.init_feedetl_sn IS NULL
      AND f.prd_days IS NOT NULL
      AND f.med_type IS NOT NULL
      AND NOT f.line_is_inpatient
    UNION ALL
    SELECT f.feedetl_sn, f.fixmedins_code, f.med_list_codg, f.fee_date, f.prd_days, f.cnt, f.amt,
        f.setl_id, f.mdtrt_id, f.psn_no, f.bilg_dr_codg, f.hilist_name, f.fee_ocur_time,
        v.med_type AS visit_med_type
    FROM fee f
    JOIN mdtrt v ON v.mdtrt_id = f.mdtrt_id
    WHERE f.init_feedetl_sn IS NULL
      AND f.prd_days IS NOT NULL
      AND f.med_type IS NULL
      AND NOT v.is_inpatient
),
over_min AS (
    SELECT l.*
    FROM (
        SELECT o.*,
            CASE WHEN o.visit_med_type = '13' THEN '急诊' WHEN o.visit_med_type = '14' THEN '慢特病' ELSE '门诊' END AS setting
        FROM otp_line o
    ) l
    JOIN setting_min sm ON sm.setting = l.setting AND l.prd_days > sm.min_limit
),
drug AS (
    -- original outpatient lines net of their refunds; fully refunded lines drop out
    SELECT
        l.feedetl_sn,
        l.med_list_codg,
        l.fee_date,
        l.prd_days,
        l.amt + coalesce(r.refund_amt, 0) AS net_amt,
        m.admdvs,
        l.visit_med_type,
        l.setting,
        l.setl_id, l.mdtrt_id, l.psn_no, l.fixmedins_code, l.bilg_dr_codg, l.hilist_name, l.fee_ocur_time
    FROM over_min l
    LEFT JOIN refund r ON r.init_feedetl_sn = l.feedetl_sn
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    WHERE l.cnt + coalesce(r.refund_cnt, 0) > 0
),
match_len AS (
    SELECT DISTINCT mlen AS len FROM ik
),
cut AS (
    SELECT d.*, l.len,
        CASE WHEN l.len = 0 THEN d.med_list_codg ELSE substr(d.med_list_codg, 1, l.len) END AS mkey
    FROM drug d
    CROSS JOIN match_len l
),
ranked AS (
    SELECT
        c.feedetl_sn,
        c.prd_days,
        c.net_amt,
        c.setting,
        c.visit_med_type,
        c.setl_id, c.mdtrt_id, c.psn_no, c.fixmedins_code, c.bilg_dr_codg, c.med_list_codg, c.hilist_name, c.fee_ocur_time,
        k.kp_id,
        k.item_name,
        k.limit_num AS max_days,
        row_number() OVER (
            PARTITION BY c.feedetl_sn
            ORDER BY CASE WHEN k.med_list_codg IS NOT NULL THEN 0 ELSE 1 END,
                length(coalesce(k.code_prefix, '')) DESC,
                CASE WHEN coalesce(k.admdvs, '') = '' THEN 1 ELSE 0 END,
                CASE WHEN k.limit_value = 'all' THEN 1 ELSE 0 END,
                k.kp_id
        ) AS kp_rank
    FROM cut c
    JOIN ik_setting k ON k.mkey = c.mkey AND k.mlen = c.len AND k.setting = c.setting
        AND (k.begndate IS NULL OR k.begndate <= c.fee_date)
        AND (k.enddate IS NULL OR c.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = c.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(c.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(c.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
limited AS (
    -- the lines over their winning point's limit (the reported columns came along: no second read of the lines)
    SELECT r.*
    FROM ranked r
    WHERE r.kp_rank = 1
      AND r.prd_days > r.max_days
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
    CAST(net_amt * (prd_days - max_days) / prd_days AS DECIMAL(16, 2)) AS violation_amount,
    '药品「' || coalesce(hilist_name, med_list_codg) || '」开药' || CAST(CAST(prd_days AS DECIMAL(16, 1)) AS VARCHAR) || '天，超过'
        || setting || '处方最大开药天数' || CAST(CAST(max_days AS INTEGER) AS VARCHAR) || '天' AS message,
    kp_id,
    '就医类型=' || setting || '（医疗类别' || visit_med_type || '）；最大开药天数=' || CAST(CAST(max_days AS INTEGER) AS VARCHAR)
        || '天；开药天数=' || CAST(CAST(prd_days AS DECIMAL(16, 1)) AS VARCHAR) || '天；适用知识点=' || coalesce(item_name, '') AS detail
FROM limited
