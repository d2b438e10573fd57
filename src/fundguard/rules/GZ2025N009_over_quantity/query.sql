-- 药品限最大开药天数/开药量: an outpatient drug line whose prd_days (开药天数) exceeds the maximum for the
-- visit's setting: 急诊 (med_type 13), 慢特病 (14, 门诊慢特病 / 长期处方) or 门诊 (every other non-inpatient visit,
-- pharmacy purchases included). A knowledge point for the exact drug code beats a class prefix; the longest
-- prefix wins; a region's point beats a national one; limit_value 'all' applies to every setting.
WITH refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
line AS (
    -- original lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.init_feedetl_sn IS NULL
      AND f.cnt + coalesce(r.refund_cnt, 0) > 0
),
drug AS (
    SELECT
        l.*,
        m.admdvs,
        v.med_type AS visit_med_type,
        CASE WHEN v.med_type = '13' THEN '急诊' WHEN v.med_type = '14' THEN '慢特病' ELSE '门诊' END AS setting
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN mdtrt v ON v.mdtrt_id = l.mdtrt_id
    WHERE NOT v.is_inpatient
      AND l.prd_days IS NOT NULL
),
ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, limit_num, limit_value, admdvs, begndate, enddate
    FROM kb
    WHERE kp_type = 'drug_max_days' AND limit_num IS NOT NULL
),
prefix_len AS (
    SELECT DISTINCT length(code_prefix) AS len FROM ik WHERE med_list_codg IS NULL AND code_prefix IS NOT NULL
),
kmatch AS (
    -- (line, point) pairs as hash joins: by code, and by the code cut to each prefix length that occurs
    SELECT d.feedetl_sn, k.*
    FROM drug d
    JOIN ik k ON k.med_list_codg = d.med_list_codg
    UNION ALL
    SELECT c.feedetl_sn, k.*
    FROM (SELECT d.feedetl_sn, p.len, substr(d.med_list_codg, 1, p.len) AS pfx FROM drug d CROSS JOIN prefix_len p) c
    JOIN ik k ON k.code_prefix = c.pfx AND length(k.code_prefix) = c.len
    WHERE k.med_list_codg IS NULL
),
limited AS (
    SELECT
        d.*,
        k.kp_id,
        k.item_name,
        k.limit_num AS max_days,
        k.limit_value,
        row_number() OVER (
            PARTITION BY d.feedetl_sn
            ORDER BY CASE WHEN k.med_list_codg IS NOT NULL THEN 0 ELSE 1 END,
                length(coalesce(k.code_prefix, '')) DESC,
                CASE WHEN coalesce(k.admdvs, '') = '' THEN 1 ELSE 0 END,
                CASE WHEN k.limit_value = 'all' THEN 1 ELSE 0 END,
                k.kp_id
        ) AS kp_rank
    FROM kmatch k
    JOIN drug d ON d.feedetl_sn = k.feedetl_sn
        AND (k.limit_value = d.setting OR k.limit_value = 'all')
        AND (k.begndate IS NULL OR k.begndate <= d.fee_date)
        AND (k.enddate IS NULL OR d.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = d.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(d.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(d.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
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
WHERE kp_rank = 1
  AND prd_days > max_days
