-- 药费占比统计: institution-months whose drug share of medical fees exceeds the cap.
WITH monthly AS (
  SELECT f.fixmedins_code,
         CAST(date_trunc('month', f.fee_date) AS DATE) AS month_start,
         sum(f.det_item_fee_sumamt) AS total_amt,
         sum(CASE WHEN f.list_type IN ('101', '103', '104') THEN f.det_item_fee_sumamt ELSE 0 END) AS drug_amt
  FROM fee f
  JOIN medins m ON m.fixmedins_code = f.fixmedins_code
  WHERE coalesce(m.fixmedins_type, '1') = '1'
  GROUP BY f.fixmedins_code, CAST(date_trunc('month', f.fee_date) AS DATE)
),
rated AS (
  SELECT mo.*, m.hosp_tier,
         CAST(mo.drug_amt AS DOUBLE) / CAST(mo.total_amt AS DOUBLE) AS drug_ratio
  FROM monthly mo
  JOIN medins m ON m.fixmedins_code = mo.fixmedins_code
  WHERE mo.total_amt >= ${min_month_amt}
),
peers AS (
  SELECT hosp_tier, month_start, avg(drug_ratio) AS peer_ratio
  FROM rated
  GROUP BY hosp_tier, month_start
)
SELECT
  CAST(NULL AS VARCHAR) AS feedetl_sn,
  CAST(NULL AS VARCHAR) AS setl_id,
  CAST(NULL AS VARCHAR) AS mdtrt_id,
  CAST(NULL AS VARCHAR) AS psn_no,
  r.fixmedins_code,
  CAST(NULL AS VARCHAR) AS bilg_dr_codg,
  CAST(NULL AS VARCHAR) AS med_list_codg,
  CAST(r.month_start AS TIMESTAMP) AS occur_time,
  CAST(r.drug_amt - r.total_amt * ${max_drug_ratio} AS DECIMAL(16,2)) AS violation_amount,
  strftime(r.month_start, '%Y-%m') || ' 药占比 ' || CAST(round(r.drug_ratio * 100, 1) AS VARCHAR) || '%，超过上限 '
    || CAST(round(${max_drug_ratio} * 100, 1) AS VARCHAR) || '%' AS message,
  CAST(NULL AS VARCHAR) AS kp_id,
  '药品费用=' || CAST(CAST(r.drug_amt AS DECIMAL(16,2)) AS VARCHAR) || '；医疗费用总额='
    || CAST(CAST(r.total_amt AS DECIMAL(16,2)) AS VARCHAR) || '；药占比=' || CAST(round(r.drug_ratio, 4) AS VARCHAR)
    || '；同级机构平均=' || CAST(round(p.peer_ratio, 4) AS VARCHAR) AS detail
FROM rated r
JOIN peers p ON p.hosp_tier = r.hosp_tier AND p.month_start = r.month_start
WHERE r.drug_ratio > ${max_drug_ratio}
