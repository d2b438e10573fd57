-- 医师同一时段接诊量异常: distinct outpatient visits per doctor per clock hour above the threshold.
-- A line is outpatient by its own 医疗类别 (the backend fee table carries it), by its visit's only when it has none
-- (decision 0019). Speed (20M lines): an hour with more visits than the limit has more lines than the limit, so the
-- lines that may be outpatient (their own 医疗类别 says so, or they have none) are first counted per (doctor, hour)
-- on two narrow keys; only the lines of those busy hours are then tested exactly and their visits counted (one
-- row per doctor, hour and visit, then count(*); docs/performance.md, rounds 2 and 6).
WITH maybe_otp AS (
    SELECT f.bilg_dr_codg, date_trunc('hour', f.fee_ocur_time) AS hour_start
    FROM fee f
    WHERE f.cnt > 0
      AND f.bilg_dr_codg IS NOT NULL
      AND f.fee_ocur_time IS NOT NULL
      AND (f.med_type IS NULL OR (NOT f.line_is_inpatient AND f.med_type <> '41'))
),
busy_hour AS (
    SELECT bilg_dr_codg, hour_start
    FROM maybe_otp
    GROUP BY bilg_dr_codg, hour_start
    HAVING count(*) > ${max_visits_per_hour}
),
busy_line AS NOT MATERIALIZED (  -- read twice: the two branches below
    SELECT f.bilg_dr_codg, b.hour_start, f.fee_ocur_time, f.mdtrt_id, f.fixmedins_code, f.amt, f.med_type,
        f.line_is_inpatient
    FROM fee f
    JOIN busy_hour b ON b.bilg_dr_codg = f.bilg_dr_codg AND b.hour_start = date_trunc('hour', f.fee_ocur_time)
    WHERE f.cnt > 0
),
otp_line AS (
    SELECT bilg_dr_codg, hour_start, fee_ocur_time, mdtrt_id, fixmedins_code, amt
    FROM busy_line
    WHERE med_type IS NOT NULL AND NOT line_is_inpatient AND med_type <> '41'
    UNION ALL
    SELECT l.bilg_dr_codg, l.hour_start, l.fee_ocur_time, l.mdtrt_id, l.fixmedins_code, l.amt
    FROM busy_line l
    JOIN mdtrt m ON m.mdtrt_id = l.mdtrt_id
    WHERE l.med_type IS NULL AND NOT m.is_inpatient AND coalesce(m.med_type, '') <> '41'
),
otp_visit_hour AS (
    SELECT
        bilg_dr_codg,
        CAST(hour_start AS DATE) AS fee_date,
        hour(hour_start) AS fee_hour,
        mdtrt_id,
        min(fixmedins_code) AS fixmedins_code,
        min(fee_ocur_time) AS first_time,
        sum(amt) AS amt
    FROM otp_line
    GROUP BY bilg_dr_codg, hour_start, mdtrt_id
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
