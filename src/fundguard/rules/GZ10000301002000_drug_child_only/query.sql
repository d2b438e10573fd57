-- 药品儿童专用: a child-only drug (drug_age = 儿童) billed to a person aged ≥ child_max_age on the fee date.
-- Knowledge first (docs/performance.md, round 3): only lines of a listed code are read, aged and netted of refunds.
WITH ik AS (
    SELECT kp_id, med_list_codg, item_name, limit_value, begndate, enddate
    FROM kb
    WHERE kp_type = 'drug_age' AND limit_value = '儿童'
),
lines_k AS (
    -- positive lines of a listed code
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.amt
    FROM fee f
    WHERE f.cnt > 0 AND f.med_list_codg IN (SELECT med_list_codg FROM ik)
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0 AND init_feedetl_sn IN (SELECT feedetl_sn FROM lines_k)
    GROUP BY init_feedetl_sn
),
lines AS (
    SELECT
        l.*,
        l.amt + coalesce(r.refund_amt, 0) AS net_amt,
        year(l.fee_date) - year(p.brdy)
            - CASE WHEN month(l.fee_date) * 100 + day(l.fee_date) < month(p.brdy) * 100 + day(p.brdy)
                   THEN 1 ELSE 0 END AS age
    FROM lines_k l
    JOIN psn p ON p.psn_no = l.psn_no
    LEFT JOIN refunds r ON r.init_feedetl_sn = l.feedetl_sn
    WHERE p.brdy IS NOT NULL
),
hit AS (
    SELECT l.*, k.kp_id, k.item_name AS kp_item_name, k.limit_value,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM lines l
    JOIN ik k ON k.med_list_codg = l.med_list_codg
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
