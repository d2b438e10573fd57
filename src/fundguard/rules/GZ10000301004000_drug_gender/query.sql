-- 药品区分性别使用: a drug restricted to one gender billed to a person of the other gender.
WITH refunds AS (
  SELECT init_feedetl_sn, sum(amt) AS refund_amt
  FROM fee
  WHERE init_feedetl_sn IS NOT NULL
  GROUP BY init_feedetl_sn
),
points AS (
  -- match key: the exact code (length -1), else the prefix (its length)
  SELECT kp_id, limit_value, item_name, coalesce(med_list_codg, code_prefix) AS mkey,
         CASE WHEN med_list_codg IS NOT NULL THEN -1 ELSE length(code_prefix) END AS mlen
  FROM kb
  WHERE kp_type = 'drug_gender' AND limit_value IN ('男', '女')
    AND (med_list_codg IS NOT NULL OR code_prefix IS NOT NULL)
),
match_len AS (
  SELECT DISTINCT mlen AS len FROM points
),
-- Knowledge first (docs/performance.md, round 3): exact codes and every prefix length that occurs are one keyed
-- hash join over the distinct billed codes (shared relation kb_billed), not over lines x lengths; the key is cut
-- in its own projection so the join stays an equality. Only then the lines of matched codes are read.
code_kp AS (
  SELECT c.med_list_codg, k.kp_id, k.limit_value, k.item_name,
         CASE k.limit_value WHEN '男' THEN '2' ELSE '1' END AS other_gend  -- the gend a line must have to fire
  FROM (
    SELECT b.med_list_codg, l.len,
           CASE WHEN l.len = -1 THEN b.med_list_codg ELSE substr(b.med_list_codg, 1, l.len) END AS mkey
    FROM (SELECT DISTINCT med_list_codg FROM kb_billed WHERE orig = 1 AND med_list_codg IS NOT NULL) b
    CROSS JOIN match_len l
  ) c
  JOIN points k ON k.mkey = c.mkey AND k.mlen = c.len
),
matched AS (
  SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
         f.hilist_name, f.fee_ocur_time, f.amt, c.kp_id, c.limit_value, c.item_name, c.other_gend
  FROM fee f JOIN code_kp c ON c.med_list_codg = f.med_list_codg
  -- the IN repeats the join as a semi-join: without it DuckDB joined all 20M lines to psn and refunds first
  WHERE f.init_feedetl_sn IS NULL AND f.amt > 0 AND f.med_list_codg IN (SELECT med_list_codg FROM code_kp)
),
hits AS (
  SELECT
    f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
    f.fee_ocur_time, f.amt + coalesce(r.refund_amt, 0) AS net_amt,
    f.kp_id, f.limit_value, coalesce(f.item_name, f.hilist_name, f.med_list_codg) AS drug_name,
    CASE p.gend WHEN '1' THEN '男' WHEN '2' THEN '女' END AS psn_gender,
    row_number() OVER (PARTITION BY f.feedetl_sn ORDER BY f.kp_id) AS rn
  FROM matched f
  JOIN psn p ON p.psn_no = f.psn_no AND p.gend = f.other_gend
  LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
  WHERE p.gend IN ('1', '2')
    AND f.limit_value <> CASE p.gend WHEN '1' THEN '男' WHEN '2' THEN '女' END
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
