-- 频繁住院: a person with more than ${max_admissions} admissions (all institutions) within any
-- ${window_days}-day window, counted by admission date. The (max+1)-th admission after an anchor,
-- found by LEAD, marks a window that exceeds; the fullest window per person is reported.
WITH v AS (
    SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.begntime, m.begndate
    FROM mdtrt m
    WHERE m.is_inpatient AND m.begntime IS NOT NULL
),
seq AS (
    SELECT
        v.*,
        lead(begndate, ${max_admissions}) OVER (PARTITION BY psn_no ORDER BY begntime, mdtrt_id) AS nth_date
    FROM v
),
anchors AS (
    SELECT psn_no, mdtrt_id AS anchor_id, begntime AS anchor_time, begndate AS anchor_date
    FROM seq
    WHERE nth_date IS NOT NULL AND date_diff('day', begndate, nth_date) < ${window_days}
),
win AS (
    SELECT
        a.psn_no,
        a.anchor_id,
        a.anchor_time,
        a.anchor_date,
        v.mdtrt_id,
        v.fixmedins_code,
        row_number() OVER (PARTITION BY a.anchor_id ORDER BY v.begntime, v.mdtrt_id) AS k
    FROM anchors a
    JOIN v
        ON v.psn_no = a.psn_no
        AND (v.begntime > a.anchor_time OR (v.begntime = a.anchor_time AND v.mdtrt_id >= a.anchor_id))
        AND date_diff('day', a.anchor_date, v.begndate) < ${window_days}
),
visit_amt AS (
    -- only the admissions beyond the limit are priced (not every visit's lines)
    SELECT mdtrt_id, sum(amt) AS amt
    FROM fee
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM win WHERE k > ${max_admissions})
    GROUP BY mdtrt_id
),
per_anchor AS (
    SELECT
        w.psn_no,
        w.anchor_id,
        w.anchor_time,
        w.anchor_date,
        count(*) AS n_visits,
        count(DISTINCT w.fixmedins_code) AS n_medins,
        sum(CASE WHEN w.k > ${max_admissions} THEN coalesce(a.amt, 0) ELSE 0 END) AS excess_amt,
        max(w.k) AS last_k
    FROM win w
    LEFT JOIN visit_amt a ON a.mdtrt_id = w.mdtrt_id
    GROUP BY w.psn_no, w.anchor_id, w.anchor_time, w.anchor_date
),
best AS (
    SELECT
        p.*,
        row_number() OVER (PARTITION BY psn_no ORDER BY n_visits DESC, anchor_time, anchor_id) AS rn
    FROM per_anchor p
),
top_medins AS (
    SELECT
        w.anchor_id,
        w.fixmedins_code,
        row_number() OVER (PARTITION BY w.anchor_id ORDER BY count(*) DESC, w.fixmedins_code) AS rn
    FROM win w
    GROUP BY w.anchor_id, w.fixmedins_code
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    b.psn_no,
    t.fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(b.anchor_time AS TIMESTAMP) AS occur_time,
    CAST(b.excess_amt AS DECIMAL(16, 2)) AS violation_amount,
    '参保人自' || CAST(b.anchor_date AS VARCHAR) || '起' || CAST(${window_days} AS VARCHAR) || '天内住院'
        || CAST(b.n_visits AS VARCHAR) || '次（涉及' || CAST(b.n_medins AS VARCHAR) || '家机构），超过设定的'
        || CAST(${max_admissions} AS VARCHAR) || '次，疑似频繁住院' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '窗口起始=' || CAST(b.anchor_date AS VARCHAR) || '；窗口天数=' || CAST(${window_days} AS VARCHAR)
        || '；住院次数=' || CAST(b.n_visits AS VARCHAR) || '；上限=' || CAST(${max_admissions} AS VARCHAR)
        || '；机构数=' || CAST(b.n_medins AS VARCHAR) || '；主要机构=' || t.fixmedins_code AS detail
FROM best b
JOIN top_medins t ON t.anchor_id = b.anchor_id AND t.rn = 1
WHERE b.rn = 1
