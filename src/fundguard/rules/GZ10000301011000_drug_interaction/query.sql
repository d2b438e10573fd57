-- 药品相互作用: in one visit, a drug of class A (code_prefix) and a drug of class B (related_codg) are both billed;
-- the B lines are reported.
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
a_side AS (
    SELECT DISTINCT l.mdtrt_id, k.kp_id
    FROM lines l
    JOIN kb k ON k.kp_type = 'drug_interaction'
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.net_amt > 0
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
    FROM lines l
    JOIN kb k ON k.kp_type = 'drug_interaction'
        AND coalesce(k.related_codg, '') <> ''
        AND substr(l.med_list_codg, 1, length(k.related_codg)) = k.related_codg
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    JOIN a_side a ON a.mdtrt_id = l.mdtrt_id AND a.kp_id = k.kp_id
    WHERE l.net_amt > 0
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
