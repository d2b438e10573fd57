-- 药品儿童专用: a child-only drug (drug_age = 儿童) billed to a person aged ≥ child_max_age on the fee date.
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
lines AS (
    SELECT
        f.*,
        f.amt + coalesce(r.refund_amt, 0) AS net_amt,
        year(f.fee_date) - year(p.brdy)
            - CASE WHEN month(f.fee_date) * 100 + day(f.fee_date) < month(p.brdy) * 100 + day(p.brdy)
                   THEN 1 ELSE 0 END AS age
    FROM fee f
    JOIN psn p ON p.psn_no = f.psn_no
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt > 0 AND p.brdy IS NOT NULL
),
hit AS (
    SELECT l.*, k.kp_id, k.item_name AS kp_item_name, k.limit_value,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM lines l
    JOIN kb k ON k.kp_type = 'drug_age' AND k.med_list_codg = l.med_list_codg AND k.limit_value = '儿童'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.age >= ${child_max_age}
      AND l.net_amt > 0
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
    '儿童专用药品“' || coalesce(l.kp_item_name, l.hilist_name, l.med_list_codg) || '”用于' || CAST(l.age AS VARCHAR)
        || '岁成人' AS message,
    l.kp_id,
    '限定对象=' || l.limit_value || '；患者年龄=' || CAST(l.age AS VARCHAR) || '岁；儿童年龄上限='
        || CAST(${child_max_age} AS VARCHAR) || '岁' AS detail
FROM hit l
WHERE l.kp_rank = 1
