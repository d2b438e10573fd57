-- 医用耗材与医疗服务项目不符: a consumable that must accompany a service item (related_codg prefix)
-- billed on a visit without any such item.
-- Candidates first (docs/performance.md, rounds 2 and 5): the knowledge match (an OR of code, prefix and name)
-- comes from the shared relations over the distinct billed (code, name) pairs; refunds are netted only for the
-- matched lines and for the lines of their visits. NULL and '' codes/names match alike, hence the coalesce keys.
WITH ck AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, related_codg, related_name, begndate, enddate
    FROM kb
    WHERE kp_type = 'consumable_item' AND coalesce(related_codg, '') <> ''
),
pair_kp AS (
    -- billed (code, name) pairs naming a point by code or code prefix, or by a name-only point the name
    -- contains (the shared relation kb_pair_kp over the distinct billed codes and names, filled once per
    -- screen), with the point's columns
    SELECT m.code, m.name, k.*
    FROM (
        SELECT DISTINCT coalesce(med_list_codg, '') AS code, coalesce(hilist_name, '') AS name, kp_id
        FROM kb_pair_kp
        WHERE kp_type = 'consumable_item' AND pos = 1
    ) m
    JOIN ck k ON k.kp_id = m.kp_id
),
matched AS (
    -- lines of matched pairs; the consumable test is applied after this join (is_cons): as a filter before it,
    -- it rejected every chunk and DuckDB read all columns of all 20M lines; now the scan stops early when no
    -- pair matched (as in GZ10000303002000)
    SELECT f.*, k.kp_id, coalesce(k.item_name, f.hilist_name, f.med_list_codg) AS cons_name, k.related_codg,
        k.related_name, coalesce(f.list_type = '301' OR f.med_chrgitm_type = '08', FALSE) AS is_cons
    FROM fee f
    JOIN pair_kp k ON k.code = coalesce(f.med_list_codg, '') AND k.name = coalesce(f.hilist_name, '')
    WHERE f.cnt > 0
        AND (k.begndate IS NULL OR k.begndate <= f.fee_date)
        AND (k.enddate IS NULL OR f.fee_date <= k.enddate)
),
visit_line AS (
    -- every original line of the visits concerned (the required item may be any of them)
    SELECT feedetl_sn, mdtrt_id, med_list_codg, amt
    FROM fee
    WHERE cnt > 0 AND mdtrt_id IN (SELECT mdtrt_id FROM matched WHERE is_cons)
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IN (SELECT feedetl_sn FROM visit_line) AND cnt < 0
    GROUP BY init_feedetl_sn
),
need AS (
    -- matched lines net of their refunds (fully refunded lines drop out)
    SELECT m.*, m.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM matched m
    LEFT JOIN refunds r ON r.init_feedetl_sn = m.feedetl_sn
    WHERE m.is_cons AND m.amt + coalesce(r.refund_amt, 0) > 0
),
satisfied AS (
    SELECT DISTINCT n.feedetl_sn
    FROM need n
    JOIN visit_line i ON i.mdtrt_id = n.mdtrt_id AND substr(i.med_list_codg, 1, length(n.related_codg)) = n.related_codg
    LEFT JOIN refunds r ON r.init_feedetl_sn = i.feedetl_sn
    WHERE i.amt + coalesce(r.refund_amt, 0) > 0
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
JOIN (SELECT DISTINCT feedetl_sn, setl_id, mdtrt_id, psn_no, fixmedins_code, bilg_dr_codg, med_list_codg, fee_ocur_time,
        net_amt FROM need) l ON l.feedetl_sn = h.feedetl_sn
