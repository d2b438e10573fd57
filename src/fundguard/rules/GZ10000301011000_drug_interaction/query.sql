-- 药品相互作用: in one visit, a drug of class A (code_prefix) and a drug of class B (related_codg) are both billed;
-- the B lines are reported.
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes and names, and
-- refunds are netted only for the lines that matched.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, related_codg FROM kb WHERE kp_type = 'drug_interaction'
),
related_len AS (
    SELECT DISTINCT length(related_codg) AS len FROM ik WHERE coalesce(related_codg, '') <> ''
),
code_kp AS (
    -- A side: billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'drug_interaction' AND pos = 1
),
b_code AS (
    -- B side: billed codes (kb_billed) whose cut to a related_codg length names a point
    SELECT DISTINCT c.med_list_codg, k.kp_id
    FROM (
        SELECT DISTINCT b.med_list_codg, p.len, substr(b.med_list_codg, 1, p.len) AS pfx
        FROM kb_billed b
        CROSS JOIN related_len p
        WHERE b.pos = 1 AND b.med_list_codg IS NOT NULL
    ) c
    JOIN ik k ON k.related_codg = c.pfx AND length(k.related_codg) = c.len
),
name_kp AS (
    -- A side: billed (code, name) pairs of positive lines whose name contains a name-only point (kb_name_kp)
    SELECT DISTINCT med_list_codg, hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'drug_interaction' AND pos = 1 AND med_list_codg IS NOT NULL
),
lines_k AS (
    -- positive lines of a code matching the A side or the B side of a point
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    WHERE f.cnt > 0
      AND f.med_list_codg IN (
          SELECT med_list_codg FROM code_kp UNION SELECT med_list_codg FROM name_kp UNION SELECT med_list_codg FROM b_code
      )
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0 AND init_feedetl_sn IN (SELECT feedetl_sn FROM lines_k)
    GROUP BY init_feedetl_sn
),
lines AS (
    -- those lines net of their refunds (fully refunded lines drop out below)
    SELECT l.*, l.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM lines_k l
    LEFT JOIN refunds r ON r.init_feedetl_sn = l.feedetl_sn
),
cand AS (
    SELECT l.feedetl_sn, l.med_list_codg, l.hilist_name
    FROM lines l
    WHERE l.net_amt > 0
),
kmatch AS (
    -- A side (line, point) pairs, one row each
    SELECT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN code_kp m ON m.med_list_codg = c.med_list_codg
    UNION
    SELECT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN name_kp m ON m.med_list_codg = c.med_list_codg AND m.hilist_name = c.hilist_name
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
    -- B side (line, point) pairs
    SELECT DISTINCT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN b_code m ON m.med_list_codg = c.med_list_codg
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
