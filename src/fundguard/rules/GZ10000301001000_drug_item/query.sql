-- 药品与医疗服务项目不符: a drug that must accompany a specific service item (drug_item.related_codg, a
-- service-code prefix) billed on a visit without any such item.
-- Speed (20M lines): the knowledge match is three hash joins (exact code, code cut to each prefix length, and the
-- name test on the distinct billed names only); the required items are found by cutting the lines to the required
-- prefix lengths and hash-joining (no loop over lines x points or lines x lines).
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, related_codg, related_name, begndate, enddate
    FROM kb
    WHERE kp_type = 'drug_item' AND coalesce(related_codg, '') <> ''
),
prefix_len AS (
    SELECT DISTINCT length(code_prefix) AS len FROM ik WHERE coalesce(code_prefix, '') <> ''
),
name_hit AS (
    -- points published by name only: the LIKE runs over the distinct billed names
    SELECT n.hilist_name, k.kp_id
    FROM (SELECT DISTINCT hilist_name FROM fee WHERE cnt > 0 AND hilist_name IS NOT NULL) n
    JOIN ik k ON coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
        AND n.hilist_name LIKE '%' || k.item_name || '%'
),
kmatch AS (
    -- (line, point) pairs, once each, with the columns used later
    SELECT f.feedetl_sn, f.mdtrt_id, f.med_list_codg, f.hilist_name, f.fee_date, f.amt, k.kp_id
    FROM fee f
    JOIN ik k ON k.med_list_codg = f.med_list_codg AND k.med_list_codg <> ''
    WHERE f.cnt > 0
    UNION
    SELECT c.feedetl_sn, c.mdtrt_id, c.med_list_codg, c.hilist_name, c.fee_date, c.amt, k.kp_id
    FROM (
        SELECT f.feedetl_sn, f.mdtrt_id, f.med_list_codg, f.hilist_name, f.fee_date, f.amt, p.len,
            substr(f.med_list_codg, 1, p.len) AS pfx
        FROM fee f CROSS JOIN prefix_len p
        WHERE f.cnt > 0
    ) c
    JOIN ik k ON k.code_prefix = c.pfx AND length(k.code_prefix) = c.len
    UNION
    SELECT f.feedetl_sn, f.mdtrt_id, f.med_list_codg, f.hilist_name, f.fee_date, f.amt, nh.kp_id
    FROM fee f
    JOIN name_hit nh ON nh.hilist_name = f.hilist_name
    WHERE f.cnt > 0
),
need AS (
    -- matched drug lines net of their refunds (fully refunded lines drop out), points in force on the day
    SELECT
        m.feedetl_sn,
        m.mdtrt_id,
        k.kp_id,
        coalesce(k.item_name, m.hilist_name, m.med_list_codg) AS drug_name,
        k.related_codg,
        k.related_name
    FROM kmatch m
    JOIN ik k ON k.kp_id = m.kp_id
    LEFT JOIN refunds r ON r.init_feedetl_sn = m.feedetl_sn
    WHERE m.amt + coalesce(r.refund_amt, 0) > 0
        AND (k.begndate IS NULL OR k.begndate <= m.fee_date)
        AND (k.enddate IS NULL OR m.fee_date <= k.enddate)
),
related AS (
    SELECT DISTINCT related_codg, length(related_codg) AS len FROM ik
),
related_len AS (
    SELECT DISTINCT len FROM related
),
visit_item AS (
    -- visits with a billed (not fully refunded) line of a required item: codes cut to each required prefix length
    SELECT DISTINCT c.mdtrt_id, c.pfx AS related_codg
    FROM (
        SELECT i.feedetl_sn, i.mdtrt_id, i.amt, p.len, substr(i.med_list_codg, 1, p.len) AS pfx
        FROM fee i CROSS JOIN related_len p
        WHERE i.cnt > 0
    ) c
    JOIN related rl ON rl.related_codg = c.pfx AND rl.len = c.len
    LEFT JOIN refunds r ON r.init_feedetl_sn = c.feedetl_sn
    WHERE c.amt + coalesce(r.refund_amt, 0) > 0
),
satisfied AS (
    -- a drug is fine when any required item of any of its knowledge points is on the visit
    SELECT DISTINCT n.feedetl_sn
    FROM need n
    JOIN visit_item v ON v.mdtrt_id = n.mdtrt_id AND v.related_codg = n.related_codg
),
hit AS (
    SELECT
        n.feedetl_sn,
        min(n.kp_id) AS kp_id,
        min(n.drug_name) AS drug_name,
        min(coalesce(n.related_name, n.related_codg)) AS first_item,
        count(DISTINCT n.related_codg) AS n_items
    FROM need n
    LEFT JOIN satisfied s ON s.feedetl_sn = n.feedetl_sn
    WHERE s.feedetl_sn IS NULL
    GROUP BY n.feedetl_sn
)
SELECT
    l.feedetl_sn,
    l.setl_id,
    l.mdtrt_id,
    l.psn_no,
    l.fixmedins_code,
    l.bilg_dr_codg,
    l.med_list_codg,
    l.fee_ocur_time AS occur_time,
    CAST(l.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '药品“' || h.drug_name || '”须与相应医疗服务项目（如' || h.first_item || '）同时使用，本次就诊未发生相关项目' AS message,
    h.kp_id,
    '须同时发生的项目类别数=' || CAST(h.n_items AS VARCHAR) || '；示例=' || h.first_item AS detail
FROM hit h
JOIN (
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt > 0
) l ON l.feedetl_sn = h.feedetl_sn
