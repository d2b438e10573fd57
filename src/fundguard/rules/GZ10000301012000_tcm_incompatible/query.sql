-- 中药饮片配伍禁忌: two herbs of a 十八反/十九畏 pair on the same prescription (same visit and day);
-- the lines of the second herb (related_name / related_codg) are reported.
-- Candidates first (docs/performance.md, round 2): each side of a pair (code or name match) is matched
-- on the distinct (code, name) pairs of herb lines; only lines matching some side are netted of refunds
-- and paired, instead of netting every fee line in a CTE used three times.
WITH tk AS (
    SELECT kp_id, med_list_codg, item_name, related_codg, related_name, group_name, begndate, enddate
    FROM kb
    WHERE kp_type = 'tcm_incompatible'
),
herb_line AS (
    -- herb lines as two filters DuckDB applies inside the fee scan; with `list_type = '102' OR
    -- med_chrgitm_type = '10'` it read every column of every line first (docs/performance.md, round 5)
    SELECT * FROM fee WHERE cnt > 0 AND list_type = '102'
    UNION ALL
    SELECT * FROM fee WHERE cnt > 0 AND med_chrgitm_type = '10' AND coalesce(list_type, '') <> '102'
),
names AS (
    SELECT DISTINCT med_list_codg, hilist_name
    FROM herb_line
),
side_b AS (
    SELECT n.med_list_codg AS code, n.hilist_name AS name, k.*
    FROM names n
    JOIN tk k
        ON (coalesce(k.related_codg, '') <> '' AND k.related_codg = n.med_list_codg)
        OR (coalesce(k.related_codg, '') = '' AND n.hilist_name LIKE '%' || k.related_name || '%')
),
side_a AS (
    SELECT n.med_list_codg AS code, n.hilist_name AS name, k.kp_id
    FROM names n
    JOIN tk k
        ON (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = n.med_list_codg)
        OR (coalesce(k.med_list_codg, '') = '' AND n.hilist_name LIKE '%' || k.item_name || '%')
),
cand AS (
    SELECT f.*
    FROM herb_line f
    JOIN (SELECT code, name FROM side_b UNION SELECT code, name FROM side_a) c
        ON c.code IS NOT DISTINCT FROM f.med_list_codg AND c.name IS NOT DISTINCT FROM f.hilist_name
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IN (SELECT feedetl_sn FROM cand) AND cnt < 0
    GROUP BY init_feedetl_sn
),
herb AS (
    -- candidate herb lines net of their refunds; fully refunded lines drop out
    SELECT c.*, c.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM cand c
    LEFT JOIN refunds r ON r.init_feedetl_sn = c.feedetl_sn
    WHERE c.amt + coalesce(r.refund_amt, 0) > 0
),
pair_hit AS (
    SELECT
        b.feedetl_sn,
        k.kp_id,
        k.item_name AS herb_a,
        k.related_name AS herb_b,
        k.group_name,
        a.hilist_name AS line_a,
        row_number() OVER (PARTITION BY b.feedetl_sn ORDER BY k.kp_id, a.feedetl_sn) AS kp_rank
    FROM herb b
    JOIN side_b k ON k.code IS NOT DISTINCT FROM b.med_list_codg AND k.name IS NOT DISTINCT FROM b.hilist_name
    JOIN herb a ON a.mdtrt_id = b.mdtrt_id AND a.fee_date = b.fee_date AND a.feedetl_sn <> b.feedetl_sn
    JOIN side_a ka ON ka.kp_id = k.kp_id
        AND ka.code IS NOT DISTINCT FROM a.med_list_codg AND ka.name IS NOT DISTINCT FROM a.hilist_name
    WHERE (k.begndate IS NULL OR k.begndate <= b.fee_date)
        AND (k.enddate IS NULL OR b.fee_date <= k.enddate)
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
    '同一处方中“' || coalesce(h.line_a, h.herb_a) || '”与“' || coalesce(l.hilist_name, h.herb_b) || '”同用，属'
        || coalesce(h.group_name, '配伍禁忌') || '（' || h.herb_a || '—' || h.herb_b || '）' AS message,
    h.kp_id,
    '配伍禁忌=' || coalesce(h.group_name, '') || '；' || h.herb_a || '×' || h.herb_b AS detail
FROM pair_hit h
JOIN herb l ON l.feedetl_sn = h.feedetl_sn
WHERE h.kp_rank = 1
