-- 药品相互作用: in one visit, a drug of class A (code_prefix) and a drug of class B (related_codg) are both billed;
-- the B lines are reported.
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
lines AS (
    -- original lines net of their refunds (fully refunded lines drop out below)
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt > 0
),
ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, related_codg FROM kb WHERE kp_type = 'drug_interaction'
),
prefix_len AS (
    SELECT DISTINCT length(code_prefix) AS len FROM ik WHERE coalesce(code_prefix, '') <> ''
),
related_len AS (
    SELECT DISTINCT length(related_codg) AS len FROM ik WHERE coalesce(related_codg, '') <> ''
),
cand AS (
    SELECT l.feedetl_sn, l.med_list_codg, l.hilist_name
    FROM lines l
    WHERE l.net_amt > 0
),
cand_prefix AS (
    -- each line's code cut to every prefix length that occurs, as a plain column to hash on
    SELECT c.feedetl_sn, p.len, substr(c.med_list_codg, 1, p.len) AS pfx
    FROM cand c
    CROSS JOIN prefix_len p
),
named AS (
    -- name-only points: the LIKE match runs over the distinct billed names, not over every line
    SELECT n.med_list_codg, n.hilist_name, k.kp_id
    FROM (SELECT DISTINCT med_list_codg, hilist_name FROM cand WHERE hilist_name IS NOT NULL) n
    JOIN ik k
        ON coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
        AND n.hilist_name LIKE '%' || k.item_name || '%'
),
kmatch AS (
    -- A side (line, point) pairs as hash joins: by code, by the code cut to each prefix length, by billed name
    SELECT c.feedetl_sn, k.kp_id
    FROM cand c
    JOIN ik k ON k.med_list_codg = c.med_list_codg
    WHERE coalesce(k.med_list_codg, '') <> ''
    UNION
    SELECT c.feedetl_sn, k.kp_id
    FROM cand_prefix c
    JOIN ik k ON k.code_prefix = c.pfx AND length(k.code_prefix) = c.len
    UNION
    SELECT c.feedetl_sn, n.kp_id
    FROM cand c
    JOIN named n ON n.med_list_codg = c.med_list_codg AND n.hilist_name = c.hilist_name
),
a_side AS (
    SELECT DISTINCT l.mdtrt_id, k.kp_id
    FROM kmatch km
    JOIN lines l ON l.feedetl_sn = km.feedetl_sn
    JOIN kb k ON k.kp_id = km.kp_id AND k.kp_type = 'drug_interaction'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
),
b_match AS (
    -- B side: the line's code cut to each related_codg length, hash-joined to the point
    SELECT DISTINCT c.feedetl_sn, k.kp_id
    FROM (
        SELECT c.feedetl_sn, p.len, substr(c.med_list_codg, 1, p.len) AS pfx FROM cand c CROSS JOIN related_len p
    ) c
    JOIN ik k ON k.related_codg = c.pfx AND length(k.related_codg) = c.len
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, k.med_list_codg, k.code_prefix) AS a_name,
        coalesce(k.related_name, k.related_codg) AS b_name,
        coalesce(k.group_name, '') AS grade,
        k.description AS effect,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM b_match bm
    JOIN lines l ON l.feedetl_sn = bm.feedetl_sn
    JOIN kb k ON k.kp_id = bm.kp_id AND k.kp_type = 'drug_interaction'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    JOIN a_side a ON a.mdtrt_id = l.mdtrt_id AND a.kp_id = k.kp_id
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
    '同一就诊同时使用' || l.a_name || '与' || l.b_name || '（' || coalesce(l.hilist_name, l.med_list_codg) || '），存在'
        || l.grade || '不良相互作用' || coalesce('：' || l.effect, '') AS message,
    l.kp_id,
    'level=line；相互作用=' || l.a_name || '×' || l.b_name || '；等级=' || l.grade AS detail
FROM hit l
WHERE l.kp_rank = 1
