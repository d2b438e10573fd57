-- 药品区分性别使用: a drug restricted to one gender billed to a person of the other gender.
WITH refunds AS (
  SELECT init_feedetl_sn, sum(amt) AS refund_amt
  FROM fee
  WHERE init_feedetl_sn IS NOT NULL
  GROUP BY init_feedetl_sn
),
-- Knowledge first (docs/performance.md, round 3): the distinct billed codes (shared relation kb_billed) meet the
-- points by exact code, and, for points given by a prefix, by the code cut to each prefix length that occurs (its
-- own projection, so the join stays an equality). Only then the lines of matched codes are read. The joins are
-- CROSS JOINs with the keys in WHERE: DuckDB and Spark plan the same hash joins, and SQLite (事中) keeps the codes
-- as the outer loop and looks the points up by index.
billed AS (
  SELECT DISTINCT med_list_codg FROM kb_billed WHERE orig = 1 AND med_list_codg IS NOT NULL
),
match_len AS (
  SELECT DISTINCT length(code_prefix) AS len
  FROM kb
  WHERE kp_type = 'drug_gender' AND limit_value IN ('男', '女') AND med_list_codg IS NULL AND code_prefix IS NOT NULL
),
code_kp AS (
  SELECT c.med_list_codg, k.kp_id, k.limit_value, k.item_name,
         CASE k.limit_value WHEN '男' THEN '2' ELSE '1' END AS other_gend  -- the gend a line must have to fire
  FROM billed c
  CROSS JOIN kb k
  WHERE k.med_list_codg = c.med_list_codg AND k.kp_type = 'drug_gender' AND k.limit_value IN ('男', '女')
  UNION ALL
  SELECT c.med_list_codg, k.kp_id, k.limit_value, k.item_name,
         CASE k.limit_value WHEN '男' THEN '2' ELSE '1' END AS other_gend
  FROM (
    SELECT b.med_list_codg, l.len, substr(b.med_list_codg, 1, l.len) AS mkey
    FROM billed b
    CROSS JOIN match_len l
  ) c
  CROSS JOIN kb k
  WHERE k.code_prefix = c.mkey AND length(k.code_prefix) = c.len AND k.med_list_codg IS NULL
    AND k.kp_type = 'drug_gender' AND k.limit_value IN ('男', '女')
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
