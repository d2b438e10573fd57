-- 药品限二线使用: a second-line drug billed to a person with no use, within lookback_days before (same day
-- included), of another drug of the same pharmacological class (the first class_prefix_len characters of the
-- national drug code: X + ATC level 3) that is not itself second-line. Without a first-line trial on record the
-- restriction ("一线药物无效或不耐受") is unmet.
-- Knowledge first (docs/performance.md): only the persons billed a second-line drug, and only their lines of
-- that drug's class, are read and netted of refunds.
WITH second_line AS (
    SELECT DISTINCT med_list_codg FROM kb WHERE kp_type = 'drug_second_line' AND med_list_codg IS NOT NULL
),
sl_class AS (
    -- (person, class) pairs that have a second-line drug billed
    SELECT DISTINCT psn_no, substr(med_list_codg, 1, ${class_prefix_len}) AS cls
    FROM fee
    WHERE init_feedetl_sn IS NULL AND med_list_codg IN (SELECT med_list_codg FROM second_line)
),
line_k AS (
    -- original lines of those persons in those classes (the second-line lines included)
    SELECT f.*
    FROM fee f
    JOIN sl_class c ON c.psn_no = f.psn_no AND c.cls = substr(f.med_list_codg, 1, ${class_prefix_len})
    WHERE f.init_feedetl_sn IS NULL
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn IN (SELECT feedetl_sn FROM line_k)
    GROUP BY init_feedetl_sn
),
line AS (
    -- those lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM line_k f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt + coalesce(r.refund_cnt, 0) > 0
),
sl AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.description,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'drug_second_line'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
first_line_use AS (
    SELECT DISTINCT s.feedetl_sn
    FROM sl s
    JOIN line p
        ON p.psn_no = s.psn_no
        AND substr(p.med_list_codg, 1, ${class_prefix_len}) = substr(s.med_list_codg, 1, ${class_prefix_len})
        AND p.fee_date <= s.fee_date
        AND date_diff('day', p.fee_date, s.fee_date) <= ${lookback_days}
    LEFT JOIN second_line x ON x.med_list_codg = p.med_list_codg
    WHERE s.kp_rank = 1
      AND x.med_list_codg IS NULL
)
SELECT
    s.feedetl_sn,
    s.setl_id,
    s.mdtrt_id,
    s.psn_no,
    s.fixmedins_code,
    s.bilg_dr_codg,
    s.med_list_codg,
    CAST(s.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(s.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '药品「' || coalesce(s.item_name, s.hilist_name, s.med_list_codg) || '」限二线使用（' || coalesce(s.description, '') || '），该参保人此前'
        || CAST(${lookback_days} AS VARCHAR) || '天内无同类一线药品使用记录' AS message,
    s.kp_id,
    '药理类别前缀=' || substr(s.med_list_codg, 1, ${class_prefix_len}) || '；回溯天数=' || CAST(${lookback_days} AS VARCHAR) || '；同类一线药品使用记录=无' AS detail
FROM sl s
LEFT JOIN first_line_use f ON f.feedetl_sn = s.feedetl_sn
WHERE s.kp_rank = 1
  AND f.feedetl_sn IS NULL
  AND s.net_amt > 0
