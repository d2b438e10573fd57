-- 医用耗材与科室不符: a consumable limited to departments (limit_value = allowed dept codes, '|' separated,
-- matched as code prefixes) billed by a department outside the list.
-- Knowledge first (docs/performance.md, rounds 2–3): the knowledge match (an OR of code, prefix and name) is
-- taken from the shared relation kb_pair_kp (over the distinct billed codes and names, filled once per
-- screen); only lines of matched (code, name) pairs are read and netted of refunds.
-- NULL and '' codes/names match alike, hence the coalesce keys.
WITH ck AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, limit_value, begndate, enddate
    FROM kb
    WHERE kp_type = 'consumable_dept' AND coalesce(limit_value, '') <> ''
),
pair_kp AS (
    -- billed (code, name) pairs naming a point by code or code prefix, or by a name-only point the name
    -- contains, with the point's columns (one hash join with the lines below)
    SELECT m.code, m.name, k.*
    FROM (
        SELECT DISTINCT coalesce(med_list_codg, '') AS code, coalesce(hilist_name, '') AS name, kp_id
        FROM kb_pair_kp
        WHERE kp_type = 'consumable_dept' AND pos = 1
    ) m
    JOIN ck k ON k.kp_id = m.kp_id
),
matched AS (
    -- lines of matched pairs; the consumable test is applied in `limited`: as a filter before this join it would
    -- reject whole chunks, and DuckDB stops the fee scan early (no pair matched) only once the join sees a chunk
    SELECT f.*, k.kp_id, k.limit_value, coalesce(k.item_name, f.hilist_name, f.med_list_codg) AS cons_name,
        coalesce(f.list_type = '301' OR f.med_chrgitm_type = '08', FALSE) AS is_cons
    FROM fee f
    JOIN pair_kp k ON k.code = coalesce(f.med_list_codg, '') AND k.name = coalesce(f.hilist_name, '')
    WHERE f.cnt > 0
        AND (k.begndate IS NULL OR k.begndate <= f.fee_date)
        AND (k.enddate IS NULL OR f.fee_date <= k.enddate)
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IN (SELECT feedetl_sn FROM matched) AND cnt < 0
    GROUP BY init_feedetl_sn
),
limited AS (
    -- matched lines net of their refunds (fully refunded lines drop out)
    SELECT m.*, m.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM matched m
    LEFT JOIN refunds r ON r.init_feedetl_sn = m.feedetl_sn
    WHERE m.is_cons AND m.amt + coalesce(r.refund_amt, 0) > 0
),
pos AS (
    SELECT 1 AS i UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5
    UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10
),
allowed AS (
    SELECT DISTINCT m.feedetl_sn
    FROM limited m
    JOIN pos p ON split_part(m.limit_value, '|', p.i) <> ''
    WHERE substr(upper(coalesce(m.bilg_dept_codg, '')), 1, length(split_part(m.limit_value, '|', p.i)))
        = upper(split_part(m.limit_value, '|', p.i))
),
hit AS (
    SELECT m.feedetl_sn, min(m.kp_id) AS kp_id, min(m.cons_name) AS cons_name, min(m.limit_value) AS depts
    FROM limited m
    LEFT JOIN allowed a ON a.feedetl_sn = m.feedetl_sn
    WHERE a.feedetl_sn IS NULL
    GROUP BY m.feedetl_sn
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
    '医用耗材“' || h.cons_name || '”限' || h.depts || '科室使用，开单科室为' || coalesce(l.bilg_dept_name, '') || '（'
        || coalesce(l.bilg_dept_codg, '空') || '）' AS message,
    h.kp_id,
    '限定科室=' || h.depts || '；开单科室=' || coalesce(l.bilg_dept_codg, '空') AS detail
FROM hit h
JOIN (SELECT DISTINCT feedetl_sn, setl_id, mdtrt_id, psn_no, fixmedins_code, bilg_dr_codg, med_list_codg, fee_ocur_time,
        net_amt, bilg_dept_name, bilg_dept_codg FROM limited) l ON l.feedetl_sn = h.feedetl_sn
