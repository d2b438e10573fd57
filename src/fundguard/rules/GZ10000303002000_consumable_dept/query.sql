-- 医用耗材与科室不符: a consumable limited to departments (limit_value = allowed dept codes, '|' separated,
-- matched as code prefixes) billed by a department outside the list.
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
pos AS (
    SELECT 1 AS i UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5
    UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10
),
limited AS (
    SELECT l.feedetl_sn, l.bilg_dept_codg, k.kp_id, k.limit_value, coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS cons_name
    FROM lines l
    JOIN kb k ON k.kp_type = 'consumable_dept'
        AND coalesce(k.limit_value, '') <> ''
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.net_amt > 0 AND (l.list_type = '301' OR l.med_chrgitm_type = '08')
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
JOIN lines l ON l.feedetl_sn = h.feedetl_sn
