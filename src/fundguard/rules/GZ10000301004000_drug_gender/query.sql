-- 药品区分性别使用: a drug restricted to one gender billed to a person of the other gender.
WITH refunds AS (
  SELECT init_feedetl_sn, sum(amt) AS refund_amt
  FROM fee
  WHERE init_feedetl_sn IS NOT NULL
  GROUP BY init_feedetl_sn
),
points AS (
  SELECT kp_id, med_list_codg, code_prefix, limit_value, item_name
  FROM kb
  WHERE kp_type = 'drug_gender' AND limit_value IN ('男', '女')
),
-- Exact codes join on equality; prefix points (rare) separately, so the big join stays a hash join.
matched AS (
  SELECT f.feedetl_sn, k.kp_id, k.limit_value, k.item_name
  FROM fee f JOIN points k ON k.med_list_codg = f.med_list_codg
  UNION ALL
  SELECT f.feedetl_sn, k.kp_id, k.limit_value, k.item_name
  FROM fee f JOIN points k
    ON k.med_list_codg IS NULL AND k.code_prefix IS NOT NULL AND starts_with(f.med_list_codg, k.code_prefix)
),
hits AS (
  SELECT
    f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
    f.fee_ocur_time, f.amt + coalesce(r.refund_amt, 0) AS net_amt,
    k.kp_id, k.limit_value, coalesce(k.item_name, f.hilist_name, f.med_list_codg) AS drug_name,
    CASE p.gend WHEN '1' THEN '男' WHEN '2' THEN '女' END AS psn_gender,
    row_number() OVER (PARTITION BY f.feedetl_sn ORDER BY k.kp_id) AS rn
  FROM fee f
  JOIN matched k ON k.feedetl_sn = f.feedetl_sn
  JOIN psn p ON p.psn_no = f.psn_no
  LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
  WHERE f.init_feedetl_sn IS NULL
    AND f.amt > 0
    AND p.gend IN ('1', '2')
    AND k.limit_value <> CASE p.gend WHEN '1' THEN '男' WHEN '2' THEN '女' END
)
SELECT
  feedetl_sn, setl_id, mdtrt_id, psn_no, fixmedins_code, bilg_dr_codg, med_list_codg,
  CAST(fee_ocur_time AS TIMESTAMP) AS occur_time,
  CAST(net_amt AS DECIMAL(16,2)) AS violation_amount,
  '药品“' || drug_name || '”限' || limit_value || '性使用，患者性别为' || psn_gender AS message,
  kp_id,
  '限定性别=' || limit_value || '；患者性别=' || psn_gender AS detail
FROM hits
WHERE rn = 1 AND net_amt > 0
