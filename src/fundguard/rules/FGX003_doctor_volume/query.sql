-- 医师同一时段接诊量异常: distinct outpatient visits per doctor per clock hour above the threshold.
-- Two-stage count: one row per (doctor, hour, visit) first, then count(*) per (doctor, hour); a
-- count(DISTINCT) over the fee lines cost 3 hash aggregates + a join at 20M lines (docs/performance.md, round 2).
WITH otp_visit_hour AS (
    SELECT
        f.bilg_dr_codg,
        f.fee_date,
        hour(f.fee_ocur_time) AS fee_hour,
        f.mdtrt_id,
        min(f.fixmedins_code) AS fixmedins_code,
        min(f.fee_ocur_time) AS first_time,
        sum(f.amt) AS amt
    FROM fee f
    JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
    WHERE f.cnt > 0
      AND f.bilg_dr_codg IS NOT NULL
      AND NOT m.is_inpatient
      AND coalesce(m.med_type, '') <> '41'
    GROUP BY f.bilg_dr_codg, f.fee_date, hour(f.fee_ocur_time), f.mdtrt_id
),
per_hour AS (
    SELECT
        bilg_dr_codg,
        fee_date,
        fee_hour,
        min(fixmedins_code) AS fixmedins_code,
        min(first_time) AS first_time,
        count(*) AS visits,
        sum(amt) AS hour_amt
    FROM otp_visit_hour
    GROUP BY bilg_dr_codg, fee_date, fee_hour
),
flagged AS (
    SELECT
        h.*,
        row_number() OVER (PARTITION BY bilg_dr_codg ORDER BY visits DESC, fee_date, fee_hour) AS rn,
        count(*) OVER (PARTITION BY bilg_dr_codg) AS flagged_hours,
        sum(hour_amt) OVER (PARTITION BY bilg_dr_codg) AS flagged_amt
    FROM per_hour h
    WHERE visits > ${max_visits_per_hour}
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS VARCHAR) AS psn_no,
    fixmedins_code,
    bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(first_time AS TIMESTAMP) AS occur_time,
    CAST(flagged_amt AS DECIMAL(16, 2)) AS violation_amount,
    '医师' || bilg_dr_codg || '于' || CAST(fee_date AS VARCHAR) || ' ' || CAST(fee_hour AS VARCHAR) || '时内接诊'
        || CAST(visits AS VARCHAR) || '人次，超过' || CAST(${max_visits_per_hour} AS VARCHAR) || '人次/小时的合理上限' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    'level=doctor；峰值小时=' || CAST(fee_date AS VARCHAR) || ' ' || CAST(fee_hour AS VARCHAR) || '时；峰值接诊数='
        || CAST(visits AS VARCHAR) || '；超阈值小时数=' || CAST(flagged_hours AS VARCHAR) || '；阈值='
        || CAST(${max_visits_per_hour} AS VARCHAR) AS detail
FROM flagged
WHERE rn = 1
