-- 医用耗材与性别不符: a gender-specific consumable billed to a person of the other gender.
-- Knowledge first (docs/performance.md, round 3): the points are matched on the distinct billed codes and names
-- (shared relations kb_code_kp / kb_name_kp, filled once per screen); only lines of matched codes or names
-- are read and netted of their refunds.
WITH ik AS (
    SELECT kp_id, item_name, limit_value, begndate, enddate
    FROM kb
    WHERE kp_type = 'consumable_gender' AND limit_value IN ('男', '女')
),
code_kp AS (
    -- by a point's code or by its code prefix
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'consumable_gender' AND pos = 1 AND kp_id IN (SELECT kp_id FROM ik)
),
name_kp AS (
    -- name-only points the catalogue name contains
    SELECT DISTINCT hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'consumable_gender' AND pos = 1 AND kp_id IN (SELECT kp_id FROM ik)
),
lines_k AS (
    -- (positive line, point): the code and name branches never meet the same point, so UNION ALL keeps one row
    -- each, as the former OR join. The consumable test comes later (see `hit`): a filter that rejects every
    -- line before these joins would keep DuckDB from ending the fee scan early when nothing matched.
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.list_type, f.med_chrgitm_type, f.fee_ocur_time, f.fee_date, f.amt, c.kp_id
    FROM fee f
    JOIN code_kp c ON c.med_list_codg = f.med_list_codg
    WHERE f.cnt > 0
    UNION ALL
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.list_type, f.med_chrgitm_type, f.fee_ocur_time, f.fee_date, f.amt, n.kp_id
    FROM fee f
    JOIN name_kp n ON n.hilist_name = f.hilist_name
    WHERE f.cnt > 0
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0 AND init_feedetl_sn IN (SELECT feedetl_sn FROM lines_k)
    GROUP BY init_feedetl_sn
),
lines AS (
    -- those lines net of their refunds (fully refunded lines drop out below)
    SELECT l.*, l.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM lines_k l
    LEFT JOIN refunds r ON r.init_feedetl_sn = l.feedetl_sn
),
hit AS (
    SELECT
        l.*,
        k.limit_value,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS cons_name,
        CASE p.gend WHEN '1' THEN '男' ELSE '女' END AS psn_gend,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM lines l
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN ik k ON k.kp_id = l.kp_id
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
