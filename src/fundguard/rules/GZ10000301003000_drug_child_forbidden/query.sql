-- 药品儿童禁用: a drug forbidden for children below an age billed to a person younger than that age.
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
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS drug_name,
        coalesce(k.limit_num, ${child_max_age}) AS forbid_age,
        year(l.fee_date) - year(p.brdy) - CASE WHEN month(l.fee_date) * 100 + day(l.fee_date) < month(p.brdy) * 100 + day(p.brdy) THEN 1 ELSE 0 END AS age,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY coalesce(k.limit_num, ${child_max_age}) DESC, k.kp_id) AS kp_rank
    FROM lines l
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN kb k ON k.kp_type = 'drug_child_forbidden'
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE p.brdy IS NOT NULL AND l.net_amt > 0
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
