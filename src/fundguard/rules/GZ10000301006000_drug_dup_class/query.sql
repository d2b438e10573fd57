-- 重复开药: two or more different generics of one pharmacological class billed on the same day of one visit;
-- the lines of every generic after the first are reported.
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes and names, and
-- refunds are netted only for the lines that matched.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, group_name, begndate, enddate
    FROM kb
    WHERE kp_type = 'drug_dup_class'
),
code_kp AS (
    -- billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'drug_dup_class' AND pos = 1
),
name_kp AS (
    -- billed (code, name) pairs of positive lines whose name contains a name-only point (kb_name_kp)
    SELECT DISTINCT med_list_codg, hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'drug_dup_class' AND pos = 1 AND med_list_codg IS NOT NULL
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
classed AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.group_name, k.item_name, k.code_prefix) AS drug_class,
        substr(l.med_list_codg, 1, 10) AS generic_key,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY length(coalesce(k.code_prefix, k.med_list_codg, '')) DESC, k.kp_id) AS kp_rank
    FROM kmatch m
    JOIN lines l ON l.feedetl_sn = m.feedetl_sn
    JOIN ik k ON k.kp_id = m.kp_id
    WHERE (k.begndate IS NULL OR k.begndate <= l.fee_date)
      AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
),
first_use AS (
    SELECT mdtrt_id, fee_date, drug_class, generic_key, min(fee_ocur_time) AS first_time, min(feedetl_sn) AS first_sn
    FROM classed
    WHERE kp_rank = 1
    GROUP BY mdtrt_id, fee_date, drug_class, generic_key
),
ranked AS (
    SELECT
        u.*,
        row_number() OVER (PARTITION BY mdtrt_id, fee_date, drug_class ORDER BY first_time, first_sn) AS generic_rank,
        count(*) OVER (PARTITION BY mdtrt_id, fee_date, drug_class) AS n_generics
    FROM first_use u
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
    '同一就诊同日开具' || CAST(r.n_generics AS VARCHAR) || '种' || l.drug_class || '，“' || coalesce(l.hilist_name, l.med_list_codg)
        || '”与已开具的同类药品药理作用相同，属重复开药' AS message,
    l.kp_id,
    'level=line；药理类别=' || l.drug_class || '；同类品种数=' || CAST(r.n_generics AS VARCHAR) || '；本品种序位=' || CAST(r.generic_rank AS VARCHAR) AS detail
FROM classed l
JOIN ranked r
    ON r.mdtrt_id = l.mdtrt_id AND r.fee_date = l.fee_date AND r.drug_class = l.drug_class AND r.generic_key = l.generic_key
WHERE l.kp_rank = 1 AND r.generic_rank > 1
