-- 药品儿童禁用: a drug forbidden for children below an age billed to a person younger than that age.
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes and names, and
-- refunds are netted only for the lines that matched.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, limit_num, begndate, enddate
    FROM kb
    WHERE kp_type = 'drug_child_forbidden'
),
code_kp AS (
    -- billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'drug_child_forbidden' AND pos = 1
),
name_kp AS (
    -- billed (code, name) pairs of positive lines whose name contains a name-only point (kb_name_kp)
    SELECT DISTINCT med_list_codg, hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'drug_child_forbidden' AND pos = 1 AND med_list_codg IS NOT NULL
),
lines_k AS (
    -- positive lines of a matched code
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    WHERE f.cnt > 0
      AND f.med_list_codg IN (SELECT med_list_codg FROM code_kp UNION SELECT med_list_codg FROM name_kp)
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
    -- (line, point) pairs, one row each
    SELECT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN code_kp m ON m.med_list_codg = c.med_list_codg
    UNION
    SELECT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN name_kp m ON m.med_list_codg = c.med_list_codg AND m.hilist_name = c.hilist_name
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS drug_name,
        coalesce(k.limit_num, ${child_max_age}) AS forbid_age,
        year(l.fee_date) - year(p.brdy) - CASE WHEN month(l.fee_date) * 100 + day(l.fee_date) < month(p.brdy) * 100 + day(p.brdy) THEN 1 ELSE 0 END AS age,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY coalesce(k.limit_num, ${child_max_age}) DESC, k.kp_id) AS kp_rank
    FROM kmatch m
    JOIN lines l ON l.feedetl_sn = m.feedetl_sn
    JOIN ik k ON k.kp_id = m.kp_id
    JOIN psn p ON p.psn_no = l.psn_no
    WHERE p.brdy IS NOT NULL
      AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
      AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
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
    '药品“' || l.drug_name || '”' || CAST(CAST(l.forbid_age AS INTEGER) AS VARCHAR) || '岁以下儿童禁用，患者年龄' || CAST(l.age AS VARCHAR) || '岁' AS message,
    l.kp_id,
    '禁用年龄=' || CAST(CAST(l.forbid_age AS INTEGER) AS VARCHAR) || '岁以下；患者年龄=' || CAST(l.age AS VARCHAR) || '岁' AS detail
FROM hit l
WHERE l.kp_rank = 1 AND l.age < l.forbid_age
