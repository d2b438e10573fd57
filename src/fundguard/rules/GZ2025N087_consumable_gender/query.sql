-- 医用耗材与性别不符: a gender-specific consumable billed to a person of the other gender.
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
        k.limit_value,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS cons_name,
        CASE p.gend WHEN '1' THEN '男' ELSE '女' END AS psn_gend,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM lines l
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN kb k ON k.kp_type = 'consumable_gender'
        AND k.limit_value IN ('男', '女')
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE p.gend IN ('1', '2') AND l.net_amt > 0 AND (l.list_type = '301' OR l.med_chrgitm_type = '08')
      AND k.limit_value <> CASE p.gend WHEN '1' THEN '男' ELSE '女' END
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
    '医用耗材“' || l.cons_name || '”限' || l.limit_value || '性使用，参保人性别为' || l.psn_gend || '性' AS message,
    l.kp_id,
    '限定性别=' || l.limit_value || '；患者性别=' || l.psn_gend AS detail
FROM hit l
WHERE l.kp_rank = 1
