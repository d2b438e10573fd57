-- 挂床住院: an inpatient stay with only bed/nursing/诊查 fees on most days while the person settles elsewhere.
-- Candidates first (docs/performance.md, round 2): the last billed day only for open stays, and the
-- settlements elsewhere only for stays that already pass the length and idle-day tests.
WITH last_fee AS (
    SELECT mdtrt_id, max(fee_date) AS last_fee_date
    FROM fee
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM mdtrt WHERE is_inpatient AND enddate IS NULL)
    GROUP BY mdtrt_id
),
stay AS (
    -- a stay still open ends, for this screen, on its last billed day
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.begntime,
        m.begndate,
        coalesce(m.enddate, lf.last_fee_date) AS end_date
    FROM mdtrt m
    LEFT JOIN last_fee lf ON lf.mdtrt_id = m.mdtrt_id
    WHERE m.is_inpatient AND m.begndate IS NOT NULL
),
stay_len AS (
    -- calendar days of the stay, admission and discharge days included
    SELECT s.*, date_diff('day', s.begndate, s.end_date) + 1 AS stay_days
    FROM stay s
    WHERE s.end_date IS NOT NULL AND s.end_date >= s.begndate
),
day_kind AS (
    -- per stay and day: does any line other than the basic charges exist, and the basic amount
    SELECT
        f.mdtrt_id,
        f.fee_date,
        max(CASE WHEN f.med_chrgitm_type IN ('01', '02', '07', '12') THEN 0 ELSE 1 END) AS has_treatment,
        sum(CASE WHEN f.med_chrgitm_type IN ('01', '02', '07', '12') THEN f.amt ELSE 0 END) AS basic_amt
    FROM fee f
    JOIN stay_len s ON s.mdtrt_id = f.mdtrt_id AND f.fee_date BETWEEN s.begndate AND s.end_date
    GROUP BY f.mdtrt_id, f.fee_date
),
per_stay AS (
    SELECT
        s.mdtrt_id,
        s.psn_no,
        s.fixmedins_code,
        s.begntime,
        s.begndate,
        s.end_date,
        s.stay_days,
        coalesce(sum(d.has_treatment), 0) AS treat_days,
        coalesce(sum(CASE WHEN d.has_treatment = 0 THEN d.basic_amt ELSE 0 END), 0) AS idle_amt
    FROM stay_len s
    LEFT JOIN day_kind d ON d.mdtrt_id = s.mdtrt_id
    GROUP BY s.mdtrt_id, s.psn_no, s.fixmedins_code, s.begntime, s.begndate, s.end_date, s.stay_days
),
cand AS (
    SELECT *
    FROM per_stay
    WHERE stay_days >= ${min_stay_days}
      AND (stay_days - treat_days) > ${min_idle_day_ratio} * stay_days
),
away_visit AS (
    -- outpatient / pharmacy visits of the candidates' persons (the persons filter first, so the visit
    -- type is not joined to every settlement)
    SELECT mdtrt_id
    FROM mdtrt
    WHERE NOT is_inpatient AND psn_no IN (SELECT psn_no FROM cand)
),
away AS (
    -- their settlements strictly inside the stay, not reversed
    SELECT
        p.mdtrt_id,
        count(DISTINCT o.setl_id) AS away_setl_cnt,
        min(o.setl_time) AS first_away_time
    FROM cand p
    JOIN setl o ON o.psn_no = p.psn_no AND o.mdtrt_id <> p.mdtrt_id AND o.refd_setl_flag = '0'
    LEFT JOIN (
        SELECT DISTINCT init_setl_id FROM setl WHERE refd_setl_flag = '1' AND init_setl_id IS NOT NULL
    ) r ON r.init_setl_id = o.setl_id
    WHERE r.init_setl_id IS NULL
      AND o.mdtrt_id IN (SELECT mdtrt_id FROM away_visit)
      AND CAST(o.setl_time AS DATE) > p.begndate
      AND CAST(o.setl_time AS DATE) < p.end_date
    GROUP BY p.mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    p.mdtrt_id,
    p.psn_no,
    p.fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(p.begntime AS TIMESTAMP) AS occur_time,
    CAST(p.idle_amt AS DECIMAL(16, 2)) AS violation_amount,
    '住院' || CAST(p.stay_days AS VARCHAR) || '天中' || CAST(p.stay_days - p.treat_days AS VARCHAR)
        || '天仅收取床位、护理、诊查等基础费用，且住院期间发生' || CAST(a.away_setl_cnt AS VARCHAR)
        || '笔门诊/药店结算，疑似挂床住院' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '入院日期=' || CAST(p.begndate AS VARCHAR) || '；出院日期=' || CAST(p.end_date AS VARCHAR) || '；住院天数='
        || CAST(p.stay_days AS VARCHAR) || '；有诊疗天数=' || CAST(p.treat_days AS VARCHAR) || '；住院期间门诊/药店结算数='
        || CAST(a.away_setl_cnt AS VARCHAR) || '；首笔时间=' || CAST(a.first_away_time AS VARCHAR) AS detail
FROM cand p
JOIN away a ON a.mdtrt_id = p.mdtrt_id
