-- 药品与医疗服务项目不符: a drug that must accompany a specific service item (drug_item.related_codg, a
-- service-code prefix) billed on a visit without any such item.
-- Speed (20M lines): the knowledge match comes from the shared relations kb_code_kp / kb_name_kp (code, code
-- prefix, and the name test on the distinct billed names, once per screen); the required items' codes are found by
-- cutting the distinct billed codes (kb_billed) to the required prefix lengths, and only their lines are read.
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
code_kp AS (
    -- billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'drug_item' AND pos = 1
      AND kp_id IN (SELECT kp_id FROM ik)
),
name_hit AS (
    -- names of positive lines containing the item_name of a name-only point (kb_name_kp, per billed pair)
    SELECT DISTINCT hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'drug_item' AND pos = 1
      AND kp_id IN (SELECT kp_id FROM ik)
),
kmatch AS (
    -- (line, point) pairs, once each, with the columns used later
    SELECT f.feedetl_sn, f.mdtrt_id, f.med_list_codg, f.hilist_name, f.fee_date, f.amt, m.kp_id
    FROM fee f
    JOIN code_kp m ON m.med_list_codg = f.med_list_codg
    WHERE f.cnt > 0
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
req_code AS (
    -- billed codes (kb_billed, of positive lines) of a required item: cut to each required prefix length
    SELECT DISTINCT c.med_list_codg, rl.related_codg
    FROM (
        SELECT b.med_list_codg, p.len, substr(b.med_list_codg, 1, p.len) AS pfx
        FROM kb_billed b CROSS JOIN related_len p
        WHERE b.pos = 1 AND b.med_list_codg IS NOT NULL
    ) c
    JOIN related rl ON rl.related_codg = c.pfx AND rl.len = c.len
),
visit_item AS (
    -- visits with a billed (not fully refunded) line of a required item: only those items' lines are read
    SELECT DISTINCT i.mdtrt_id, q.related_codg
    FROM fee i
    JOIN req_code q ON q.med_list_codg = i.med_list_codg
    LEFT JOIN refunds r ON r.init_feedetl_sn = i.feedetl_sn
    WHERE i.cnt > 0 AND i.amt + coalesce(r.refund_amt, 0) > 0
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
