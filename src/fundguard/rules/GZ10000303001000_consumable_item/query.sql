-- 医用耗材与医疗服务项目不符: a consumable that must accompany a service item (related_codg prefix)
-- billed on a visit without any such item.
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
need AS (
    SELECT l.feedetl_sn, k.kp_id, coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS cons_name, k.related_codg, k.related_name
    FROM lines l
    JOIN kb k ON k.kp_type = 'consumable_item'
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
satisfied AS (
    SELECT DISTINCT n.feedetl_sn
    FROM need n
    JOIN lines c ON c.feedetl_sn = n.feedetl_sn
    JOIN lines i ON i.mdtrt_id = c.mdtrt_id AND substr(i.med_list_codg, 1, length(n.related_codg)) = n.related_codg
    WHERE i.net_amt > 0
),
hit AS (
    SELECT n.feedetl_sn, min(n.kp_id) AS kp_id, min(n.cons_name) AS cons_name, min(coalesce(n.related_name, n.related_codg)) AS first_item
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
    '医用耗材“' || h.cons_name || '”须与' || h.first_item || '同时发生，本次就诊未收取相关项目' AS message,
    h.kp_id,
    '须同时发生的项目=' || h.first_item AS detail
FROM hit h
JOIN lines l ON l.feedetl_sn = h.feedetl_sn
