-- 医疗服务项目重复收费: 主项 and 从项 of a knowledge pair charged together; the 从项 line is the violation.
WITH refunds AS (
  SELECT init_feedetl_sn, sum(amt) AS refund_amt
  FROM fee
  WHERE init_feedetl_sn IS NOT NULL
  GROUP BY init_feedetl_sn
),
pairs AS (
  SELECT kp_id, med_list_codg AS main_codg, related_codg AS sub_codg,
         coalesce(limit_value, '同时') AS window_word,
         coalesce(item_name, med_list_codg) AS main_name, related_name
  FROM kb
  WHERE kp_type = 'item_dup_pair' AND med_list_codg IS NOT NULL AND related_codg IS NOT NULL
    AND med_list_codg <> related_codg
),
pair_codes AS (
  SELECT main_codg AS codg FROM pairs
  UNION
  SELECT sub_codg FROM pairs
),
-- only lines of an item that occurs in a pair are read further (speed: the other lines never match)
lines AS (
  SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
         f.hilist_name, f.fee_ocur_time, f.fee_date, f.amt + coalesce(r.refund_amt, 0) AS net_amt
  FROM fee f
  JOIN pair_codes pc ON pc.codg = f.med_list_codg
  LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
  WHERE f.init_feedetl_sn IS NULL
),
main_day AS (
  SELECT DISTINCT psn_no, fixmedins_code, fee_date, med_list_codg FROM lines
  WHERE net_amt > 0 AND med_list_codg IN (SELECT main_codg FROM pairs WHERE window_word = '单日')
),
main_visit AS (
  SELECT DISTINCT mdtrt_id, med_list_codg FROM lines
  WHERE net_amt > 0 AND med_list_codg IN (SELECT main_codg FROM pairs WHERE window_word <> '单日')
),
hits AS (
  SELECT b.*, p.kp_id, p.window_word, p.main_name, p.main_codg, p.related_name
  FROM lines b
  JOIN pairs p ON p.sub_codg = b.med_list_codg AND p.window_word = '单日'
  JOIN main_day a
    ON a.psn_no = b.psn_no AND a.fixmedins_code = b.fixmedins_code AND a.fee_date = b.fee_date
   AND a.med_list_codg = p.main_codg
  WHERE b.net_amt > 0
  UNION ALL
  SELECT b.*, p.kp_id, p.window_word, p.main_name, p.main_codg, p.related_name
  FROM lines b
  JOIN pairs p ON p.sub_codg = b.med_list_codg AND p.window_word <> '单日'
  JOIN main_visit a ON a.mdtrt_id = b.mdtrt_id AND a.med_list_codg = p.main_codg
  WHERE b.net_amt > 0
),
ranked AS (
  SELECT hits.*,
         row_number() OVER (PARTITION BY feedetl_sn ORDER BY kp_id) AS rn,
         count(*) OVER (PARTITION BY feedetl_sn) AS n_points
  FROM hits
)
SELECT
  feedetl_sn, setl_id, mdtrt_id, psn_no, fixmedins_code, bilg_dr_codg, med_list_codg,
  CAST(fee_ocur_time AS TIMESTAMP) AS occur_time,
  CAST(net_amt AS DECIMAL(16,2)) AS violation_amount,
  '项目“' || coalesce(related_name, hilist_name, med_list_codg) || '”与“' || main_name || '”' || window_word
    || '重复收费' AS message,
  kp_id,
  '主项=' || main_codg || '；从项=' || med_list_codg || '；限定范围=' || window_word
    || '；命中知识点数=' || CAST(n_points AS VARCHAR) AS detail
FROM ranked
WHERE rn = 1
