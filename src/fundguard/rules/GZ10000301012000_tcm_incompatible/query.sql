-- 中药饮片配伍禁忌: two herbs of a 十八反/十九畏 pair on the same prescription (same visit and day);
-- the lines of the second herb (related_name / related_codg) are reported.
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
herb AS (
    SELECT l.* FROM lines l WHERE (l.list_type = '102' OR l.med_chrgitm_type = '10') AND l.net_amt > 0
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
    JOIN kb k ON k.kp_type = 'tcm_incompatible'
        AND ((coalesce(k.related_codg, '') <> '' AND k.related_codg = b.med_list_codg) OR (coalesce(k.related_codg, '') = '' AND b.hilist_name LIKE '%' || k.related_name || '%'))
        AND (k.begndate IS NULL OR k.begndate <= b.fee_date)
        AND (k.enddate IS NULL OR b.fee_date <= k.enddate)
    JOIN herb a ON a.mdtrt_id = b.mdtrt_id AND a.fee_date = b.fee_date AND a.feedetl_sn <> b.feedetl_sn
        AND ((coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = a.med_list_codg) OR (coalesce(k.med_list_codg, '') = '' AND a.hilist_name LIKE '%' || k.item_name || '%'))
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
JOIN lines l ON l.feedetl_sn = h.feedetl_sn
WHERE h.kp_rank = 1
