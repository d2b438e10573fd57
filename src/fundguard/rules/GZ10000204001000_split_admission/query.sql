-- 分解住院: readmission at the same institution within N days of discharge with the same main diagnosis.
WITH main_diag AS (
  SELECT mdtrt_id, min(diag_code) AS diag_code
  FROM diag
  WHERE maindiag_flag = '1'
    -- only inpatient stays read it (docs/performance.md, round 2)
    AND mdtrt_id IN (SELECT mdtrt_id FROM mdtrt WHERE is_inpatient AND enddate IS NOT NULL)
  GROUP BY mdtrt_id
),
stays AS (
  SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.chfpdr_code, m.begntime, m.begndate, m.enddate,
         coalesce(m.dscg_maindiag_code, d.diag_code) AS diag_code
  FROM mdtrt m
  LEFT JOIN main_diag d ON d.mdtrt_id = m.mdtrt_id
  WHERE m.is_inpatient AND m.enddate IS NOT NULL
),
seq AS (
  SELECT s.*,
         lag(mdtrt_id) OVER (PARTITION BY psn_no, fixmedins_code ORDER BY begntime, mdtrt_id) AS prev_mdtrt_id,
         lag(enddate) OVER (PARTITION BY psn_no, fixmedins_code ORDER BY begntime, mdtrt_id) AS prev_enddate,
         lag(diag_code) OVER (PARTITION BY psn_no, fixmedins_code ORDER BY begntime, mdtrt_id) AS prev_diag_code
  FROM stays s
),
hits AS (
  SELECT seq.*, date_diff('day', prev_enddate, begndate) AS gap_days
  FROM seq
  WHERE prev_mdtrt_id IS NOT NULL
    AND date_diff('day', prev_enddate, begndate) BETWEEN 0 AND ${max_interval_days}
    AND substr(diag_code, 1, ${diag_prefix_len}) = substr(prev_diag_code, 1, ${diag_prefix_len})
),
fund AS (
  SELECT mdtrt_id, sum(fund_pay_sumamt) AS fund_amt
  FROM setl
  WHERE mdtrt_id IN (SELECT mdtrt_id FROM hits)
  GROUP BY mdtrt_id
)
SELECT
  CAST(NULL AS VARCHAR) AS feedetl_sn,
  CAST(NULL AS VARCHAR) AS setl_id,
  h.mdtrt_id, h.psn_no, h.fixmedins_code,
  h.chfpdr_code AS bilg_dr_codg,
  CAST(NULL AS VARCHAR) AS med_list_codg,
  CAST(h.begntime AS TIMESTAMP) AS occur_time,
  CAST(coalesce(f.fund_amt, 0) AS DECIMAL(16,2)) AS violation_amount,
  '出院后' || CAST(h.gap_days AS VARCHAR) || '天内再次入院，主诊断相同（' || h.diag_code || '），疑似分解住院' AS message,
  CAST(NULL AS VARCHAR) AS kp_id,
  '前次就诊=' || h.prev_mdtrt_id || '；前次出院=' || CAST(h.prev_enddate AS VARCHAR) || '；本次入院='
    || CAST(h.begndate AS VARCHAR) || '；间隔天数=' || CAST(h.gap_days AS VARCHAR) || '；主诊断=' || h.diag_code
    || '/' || h.prev_diag_code AS detail
FROM hits h
LEFT JOIN fund f ON f.mdtrt_id = h.mdtrt_id
