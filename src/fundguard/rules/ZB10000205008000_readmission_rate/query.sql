-- 非计划再入院率统计: per institution and discharge month, the share of discharges followed within
-- ${readmit_days} days by another admission of the same person at the same institution, leaving out
-- planned readmissions (main diagnosis in ${planned_diag_codes}, e.g. Z51 放化疗) and deaths; compared with
-- the leave-one-out average of peers (same medins_type and tier).
WITH stays AS (
    SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.begntime, m.begndate, m.endtime, m.enddate, m.dscg_way,
        upper(coalesce(m.dscg_maindiag_code, '')) AS main_code
    FROM mdtrt m
    WHERE m.is_inpatient AND coalesce(m.med_type, '') NOT IN ${excluded_med_types}
),
readmit AS (
    SELECT DISTINCT a.mdtrt_id
    FROM stays a
    JOIN stays b
        ON b.psn_no = a.psn_no
        AND b.fixmedins_code = a.fixmedins_code
        AND b.mdtrt_id <> a.mdtrt_id
        AND b.begntime > a.endtime
        AND date_diff('day', a.enddate, b.begndate) <= ${readmit_days}
    WHERE substr(b.main_code, 1, 3) NOT IN ${planned_diag_codes}
        AND substr(b.main_code, 1, 5) NOT IN ${planned_diag_codes}
),
base AS (
    SELECT
        s.fixmedins_code,
        CAST(date_trunc('month', s.enddate) AS DATE) AS month_start,
        CASE WHEN r.mdtrt_id IS NULL THEN 0 ELSE 1 END AS hit
    FROM stays s
    LEFT JOIN readmit r ON r.mdtrt_id = s.mdtrt_id
    WHERE s.enddate IS NOT NULL AND coalesce(s.dscg_way, '') <> '5'
),
per_inst AS (
    SELECT fixmedins_code, month_start, count(*) AS n_dscg, sum(hit) AS n_hit
    FROM base
    GROUP BY fixmedins_code, month_start
),
eligible AS (
    SELECT
        p.*,
        coalesce(i.medins_type, '') AS peer_type,
        i.hosp_tier,
        CAST(p.n_hit AS DOUBLE) / CAST(p.n_dscg AS DOUBLE) AS rate
    FROM per_inst p
    JOIN medins i ON i.fixmedins_code = p.fixmedins_code
    WHERE p.n_dscg >= ${min_discharges}
),
peered AS (
    SELECT
        e.*,
        count(*) OVER (PARTITION BY peer_type, hosp_tier, month_start) - 1 AS n_peers,
        sum(rate) OVER (PARTITION BY peer_type, hosp_tier, month_start) - rate AS peer_sum
    FROM eligible e
),
deviated AS (
    SELECT
        p.*,
        peer_sum / n_peers AS peer_avg,
        round(rate / (peer_sum / n_peers) - 1, 4) AS dev
    FROM peered p
    WHERE n_peers >= ${min_peers} AND n_peers > 0 AND peer_sum > 0 AND n_hit > 0
),
levelled AS (
    SELECT
        d.*,
        CASE
            WHEN dev >= ${level_red} THEN '红'
            WHEN dev >= ${level_orange} THEN '橙'
            WHEN dev >= ${level_yellow} THEN '黄'
        END AS warn_level
    FROM deviated d
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS VARCHAR) AS psn_no,
    fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(month_start AS TIMESTAMP) AS occur_time,
    CAST(0 AS DECIMAL(16, 2)) AS violation_amount,
    '【' || warn_level || '色预警】' || substr(CAST(month_start AS VARCHAR), 1, 7) || '出院' || CAST(n_dscg AS VARCHAR)
        || '人次，31天内非计划再入院率' || CAST(CAST(rate * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%（' || CAST(n_hit AS VARCHAR)
        || '人次），同类机构平均' || CAST(CAST(peer_avg * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%，高出'
        || CAST(CAST(dev * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '预警等级=' || warn_level || '；统计月份=' || substr(CAST(month_start AS VARCHAR), 1, 7) || '；出院人次='
        || CAST(n_dscg AS VARCHAR) || '；再入院人次=' || CAST(n_hit AS VARCHAR) || '；31天内非计划再入院率='
        || CAST(CAST(rate * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%；同类机构平均='
        || CAST(CAST(peer_avg * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%；同类机构数=' || CAST(n_peers AS VARCHAR)
        || '；同类口径=医疗机构类别' || peer_type || '+' || CAST(hosp_tier AS VARCHAR) || '级' AS detail
FROM levelled
WHERE warn_level IS NOT NULL
