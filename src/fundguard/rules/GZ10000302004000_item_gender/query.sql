-- 医疗服务项目区分性别使用: a gender-limited service item billed to a person of the other gender.
-- Knowledge first (docs/performance.md, round 3): only lines of a listed code are read and netted of refunds.
WITH ik AS (
    SELECT kp_id, med_list_codg, item_name, limit_value, begndate, enddate
    FROM kb
    WHERE kp_type = 'item_gender' AND limit_value IN ('男', '女')
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
    SELECT l.*, l.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM lines_k l
    LEFT JOIN refunds r ON r.init_feedetl_sn = l.feedetl_sn
),
hit AS (
    SELECT l.*, k.kp_id, k.item_name AS kp_item_name, k.limit_value,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM lines l
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN ik k ON k.med_list_codg = l.med_list_codg
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE p.gend IN ('1', '2')
      AND k.limit_value IN ('男', '女')
      AND k.limit_value <> CASE p.gend WHEN '1' THEN '男' ELSE '女' END
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
    '医疗服务项目“' || coalesce(l.kp_item_name, l.hilist_name, l.med_list_codg) || '”限' || l.limit_value
        || '性使用，参保人性别为' || CASE p.gend WHEN '1' THEN '男' ELSE '女' END || '性' AS message,
    l.kp_id,
    '限定性别=' || l.limit_value || '；患者性别=' || CASE p.gend WHEN '1' THEN '男' ELSE '女' END AS detail
FROM hit l
JOIN psn p ON p.psn_no = l.psn_no
WHERE l.kp_rank = 1
