-- 医用耗材限疾病使用: a consumable limited to diseases (kb consumable_indication.related_codg ICD-10 prefixes)
-- billed on a visit none of whose diagnoses falls under any of them.
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
vdiag AS (
    SELECT mdtrt_id, upper(diag_code) AS diag_code FROM diag WHERE diag_code IS NOT NULL
    UNION
    SELECT mdtrt_id, upper(dscg_maindiag_code) AS diag_code FROM mdtrt WHERE dscg_maindiag_code IS NOT NULL
),
limited AS (
    SELECT l.feedetl_sn, l.mdtrt_id, k.kp_id, k.related_codg, coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS cons_name
    FROM lines l
    JOIN kb k ON k.kp_type = 'consumable_indication'
        AND coalesce(k.related_codg, '') <> ''
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
covered AS (
    SELECT DISTINCT b.feedetl_sn
    FROM limited b
    JOIN vdiag d ON d.mdtrt_id = b.mdtrt_id AND substr(d.diag_code, 1, length(b.related_codg)) = upper(b.related_codg)
),
visit_dx AS (
    SELECT mdtrt_id, min(diag_code) AS a_dx FROM vdiag GROUP BY mdtrt_id
),
hit AS (
    SELECT b.feedetl_sn, min(b.kp_id) AS kp_id, min(b.cons_name) AS cons_name, count(DISTINCT b.related_codg) AS n_ind
    FROM limited b
    LEFT JOIN covered c ON c.feedetl_sn = b.feedetl_sn
    WHERE c.feedetl_sn IS NULL
    GROUP BY b.feedetl_sn
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
    '医用耗材“' || h.cons_name || '”限' || CAST(h.n_ind AS VARCHAR) || '类疾病使用，本次就诊诊断（' || coalesce(v.a_dx, '缺失')
        || '）不符' AS message,
    h.kp_id,
    '限定疾病类别数=' || CAST(h.n_ind AS VARCHAR) || '；就诊诊断示例=' || coalesce(v.a_dx, '缺失') AS detail
FROM hit h
JOIN lines l ON l.feedetl_sn = h.feedetl_sn
LEFT JOIN visit_dx v ON v.mdtrt_id = l.mdtrt_id
