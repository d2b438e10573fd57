-- 聚集性住院: admissions at one institution within a few days with near-identical amounts.
WITH visit_setl AS (
    SELECT mdtrt_id, sum(medfee_sumamt) AS medfee, sum(hifp_pay) AS hifp, sum(fund_pay_sumamt) AS fund_pay,
        min(setl_id) AS setl_id
    FROM setl
    -- inpatient visits only: not every settlement (docs/performance.md, round 2)
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM mdtrt WHERE is_inpatient AND begndate IS NOT NULL)
    GROUP BY mdtrt_id
),
adm AS (
    SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.begntime, m.begndate, v.medfee, v.hifp, v.fund_pay, v.setl_id,
        substr(coalesce(m.dscg_maindiag_code, ''), 1, ${diag_prefix_len}) AS diag_group,
        -- buckets of window_days + 1 days: admissions within the window are in the same or adjacent bucket
        CAST(floor(date_diff('day', DATE '2000-01-01', m.begndate) / (${window_days} + 1)) AS BIGINT) AS day_bucket
    FROM mdtrt m
    JOIN visit_setl v ON v.mdtrt_id = m.mdtrt_id
    WHERE m.is_inpatient AND m.begndate IS NOT NULL AND v.medfee > 0
),
shifted AS (
    -- each admission looks into its own and the two adjacent day buckets, so the self-join is an
    -- equi-join on (institution, diagnosis group, bucket) instead of all of a group's admissions of the
    -- year (docs/performance.md, round 2)
    SELECT a.mdtrt_id, a.fixmedins_code, a.diag_group, a.begndate, a.medfee, a.day_bucket + o.d AS near_bucket
    FROM adm a
    CROSS JOIN (SELECT -1 AS d UNION ALL SELECT 0 UNION ALL SELECT 1) o
),
neighbour AS (
    SELECT
        a.mdtrt_id,
        count(DISTINCT b.psn_no) AS n_psn,
        count(*) AS n_adm,
        avg(b.medfee) AS avg_fee,
        stddev_samp(b.medfee) AS sd_fee,
        avg(b.hifp) AS avg_hifp,
        min(b.begndate) AS first_day,
        max(b.begndate) AS last_day
    FROM shifted a
    JOIN adm b
        ON b.fixmedins_code = a.fixmedins_code
        AND b.day_bucket = a.near_bucket
        -- the same disease category: organised fake admissions share a diagnosis; a big hospital's
        -- unrelated stays of similar cost do not
        AND b.diag_group = a.diag_group
        AND abs(date_diff('day', a.begndate, b.begndate)) <= ${window_days}
        AND abs(b.medfee - a.medfee) <= a.medfee * ${amount_tolerance}
    GROUP BY a.mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    a.setl_id,
    a.mdtrt_id,
    a.psn_no,
    a.fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(a.begntime AS TIMESTAMP) AS occur_time,
    CAST(coalesce(a.fund_pay, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '本机构' || CAST(n.first_day AS VARCHAR) || '至' || CAST(n.last_day AS VARCHAR) || '集中收治' || CAST(n.n_psn AS VARCHAR)
        || '人住院，医疗费总额高度接近（均值' || CAST(CAST(n.avg_fee AS DECIMAL(16, 2)) AS VARCHAR) || '元，变异系数'
        || CAST(CAST(coalesce(n.sd_fee, 0) / n.avg_fee AS DECIMAL(8, 4)) AS VARCHAR) || '），疑似聚集性虚假/诱导住院' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    'level=visit；聚集人数=' || CAST(n.n_psn AS VARCHAR) || '；聚集住院人次=' || CAST(n.n_adm AS VARCHAR) || '；入院区间='
        || CAST(n.first_day AS VARCHAR) || '~' || CAST(n.last_day AS VARCHAR) || '；医疗费均值='
        || CAST(CAST(n.avg_fee AS DECIMAL(16, 2)) AS VARCHAR) || '；统筹支付均值=' || CAST(CAST(n.avg_hifp AS DECIMAL(16, 2)) AS VARCHAR)
        || '；变异系数=' || CAST(CAST(coalesce(n.sd_fee, 0) / n.avg_fee AS DECIMAL(8, 4)) AS VARCHAR) AS detail
FROM adm a
JOIN neighbour n ON n.mdtrt_id = a.mdtrt_id
WHERE n.n_psn >= ${min_cluster_size}
  AND coalesce(n.sd_fee, 0) <= n.avg_fee * ${max_cv}
