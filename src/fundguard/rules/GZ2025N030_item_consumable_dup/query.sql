-- 医疗服务项目与医用耗材重复收费: a consumable whose cost is included in a service item (kb
-- item_consumable_dup_pair: med_list_codg = item, related_codg = consumable) billed separately alongside that item
-- on the same day (单日 points) or in the same visit (同时/单次 points). The consumable line is the violation.
-- Candidates first: only lines billing a code of some pair (either side) are netted of refunds, so the
-- multiply-referenced `line` CTE stays small instead of holding all fee lines (docs/performance.md, round 2).
WITH codes AS (
    SELECT related_codg AS code FROM kb WHERE kp_type = 'item_consumable_dup_pair' AND related_codg IS NOT NULL
    UNION
    SELECT med_list_codg AS code FROM kb WHERE kp_type = 'item_consumable_dup_pair' AND med_list_codg IS NOT NULL
),
cand AS (
    SELECT f.*
    FROM fee f
    WHERE f.init_feedetl_sn IS NULL
      AND f.med_list_codg IN (SELECT code FROM codes)
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IN (SELECT feedetl_sn FROM cand)
    GROUP BY init_feedetl_sn
),
line AS (
    -- original lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM cand f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt + coalesce(r.refund_cnt, 0) > 0
),
pair AS (
    SELECT
        c.feedetl_sn,
        k.kp_id,
        k.item_name,
        k.related_name,
        coalesce(k.limit_value, '') AS window_word,
        i.feedetl_sn AS item_feedetl_sn,
        row_number() OVER (PARTITION BY c.feedetl_sn ORDER BY k.kp_id, i.fee_ocur_time, i.feedetl_sn) AS kp_rank
    FROM line c
    JOIN medins m ON m.fixmedins_code = c.fixmedins_code
    JOIN kb k
        ON k.related_codg = c.med_list_codg
        AND k.kp_type = 'item_consumable_dup_pair'
        AND (k.begndate IS NULL OR k.begndate <= c.fee_date)
        AND (k.enddate IS NULL OR c.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    JOIN line i
        ON i.mdtrt_id = c.mdtrt_id
        AND i.med_list_codg = k.med_list_codg
        AND (coalesce(k.window_days, 0) <> 1 OR i.fee_date = c.fee_date)
)
SELECT
    c.feedetl_sn,
    c.setl_id,
    c.mdtrt_id,
    c.psn_no,
    c.fixmedins_code,
    c.bilg_dr_codg,
    c.med_list_codg,
    CAST(c.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(c.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '医用耗材「' || coalesce(p.related_name, c.hilist_name, c.med_list_codg) || '」已含在医疗服务项目「' || coalesce(p.item_name, '')
        || '」内，' || CASE WHEN p.window_word = '' THEN '' ELSE p.window_word END || '重复收费' AS message,
    p.kp_id,
    '项目明细=' || p.item_feedetl_sn || '；频度=' || CASE WHEN p.window_word = '' THEN '同次就诊' ELSE p.window_word END AS detail
FROM line c
JOIN pair p ON p.feedetl_sn = c.feedetl_sn AND p.kp_rank = 1
WHERE c.net_amt > 0
