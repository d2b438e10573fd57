-- 同一费用重复报销: a later valid settlement duplicating an earlier one (same visit and period, or identical lines).
WITH refunded AS (
    SELECT DISTINCT init_setl_id
    FROM setl
    WHERE refd_setl_flag = '1' AND init_setl_id IS NOT NULL
),
valid AS NOT MATERIALIZED (  -- read twice: two narrow scans beat materializing 5.5M wide rows
    SELECT s.setl_id, s.mdtrt_id, s.psn_no, s.fixmedins_code, s.setl_time, s.begndate, s.enddate, s.medfee_sumamt,
        s.fund_pay_sumamt
    FROM setl s
    LEFT JOIN refunded r ON r.init_setl_id = s.setl_id
    WHERE s.refd_setl_flag = '0' AND r.init_setl_id IS NULL
),
-- Candidates first: only (person, institution, total) keys held by two or more settlements can pair, so the
-- self-join runs over those settlements, not all 5.6M (at 20M lines the self-join alone took 2 s). The keys are
-- counted by their hash (one integer instead of three columns; equal keys have equal hashes, so no pair is lost,
-- and the pair join below compares the columns themselves).
dup_key AS (
    SELECT hash(psn_no, fixmedins_code, medfee_sumamt) AS key_hash
    FROM valid
    GROUP BY hash(psn_no, fixmedins_code, medfee_sumamt)
    HAVING count(*) > 1
),
candidate AS (
    SELECT v.*
    FROM valid v
    JOIN dup_key k ON k.key_hash = hash(v.psn_no, v.fixmedins_code, v.medfee_sumamt)
),
pair AS (
    -- a = the earlier settlement, b = the later one with the same person, institution and total
    SELECT
        a.setl_id AS first_setl_id,
        a.mdtrt_id AS first_mdtrt_id,
        a.setl_time AS first_setl_time,
        b.setl_id,
        b.mdtrt_id,
        b.psn_no,
        b.fixmedins_code,
        b.setl_time,
        b.medfee_sumamt,
        b.fund_pay_sumamt,
        a.mdtrt_id = b.mdtrt_id
            AND coalesce(CAST(a.begndate AS VARCHAR), '') = coalesce(CAST(b.begndate AS VARCHAR), '')
            AND coalesce(CAST(a.enddate AS VARCHAR), '') = coalesce(CAST(b.enddate AS VARCHAR), '') AS same_visit
    FROM candidate a
    JOIN candidate b
        ON a.psn_no = b.psn_no
        AND a.fixmedins_code = b.fixmedins_code
        AND a.medfee_sumamt = b.medfee_sumamt
        AND (a.setl_time < b.setl_time OR (a.setl_time = b.setl_time AND a.setl_id < b.setl_id))
),
-- Speed (20M lines): lines are read only for the settlements of candidate pairs (same person, institution and
-- total); over all lines the line CTE, used three times, was materialized.
pair_setl AS (
    SELECT first_setl_id AS setl_id FROM pair
    UNION
    SELECT setl_id FROM pair
),
line AS (
    SELECT f.setl_id, f.feedetl_sn, f.med_list_codg, f.fee_ocur_time, f.cnt, f.det_item_fee_sumamt
    FROM fee f
    JOIN pair_setl ps ON ps.setl_id = f.setl_id
    WHERE f.cnt > 0
),
line_cnt AS (
    SELECT setl_id, count(*) AS n_lines FROM line GROUP BY setl_id
),
matched AS (
    SELECT p.first_setl_id, p.setl_id, count(DISTINCT lb.feedetl_sn) AS n_matched
    FROM pair p
    JOIN line lb ON lb.setl_id = p.setl_id
    JOIN line la
        ON la.setl_id = p.first_setl_id
        AND la.med_list_codg = lb.med_list_codg
        AND la.fee_ocur_time = lb.fee_ocur_time
        AND la.cnt = lb.cnt
        AND la.det_item_fee_sumamt = lb.det_item_fee_sumamt
    GROUP BY p.first_setl_id, p.setl_id
),
dup AS (
    SELECT
        p.*,
        coalesce(nb.n_lines, 0) AS n_lines,
        coalesce(nb.n_lines, 0) > 0 AND nb.n_lines = na.n_lines AND m.n_matched = nb.n_lines AS same_lines,
        row_number() OVER (PARTITION BY p.setl_id ORDER BY p.first_setl_time, p.first_setl_id) AS rn
    FROM pair p
    LEFT JOIN line_cnt na ON na.setl_id = p.first_setl_id
    LEFT JOIN line_cnt nb ON nb.setl_id = p.setl_id
    LEFT JOIN matched m ON m.first_setl_id = p.first_setl_id AND m.setl_id = p.setl_id
    WHERE p.same_visit
       OR (coalesce(nb.n_lines, 0) > 0 AND nb.n_lines = na.n_lines AND m.n_matched = nb.n_lines)
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    setl_id,
    mdtrt_id,
    psn_no,
    fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(setl_time AS TIMESTAMP) AS occur_time,
    CAST(coalesce(fund_pay_sumamt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '结算' || setl_id || '与此前结算' || first_setl_id || '重复报销同一费用（医疗费总额'
        || CAST(CAST(medfee_sumamt AS DECIMAL(16, 2)) AS VARCHAR) || '元，'
        || CASE WHEN same_lines THEN '费用明细' || CAST(n_lines AS VARCHAR) || '条完全一致' ELSE '同一就诊同一结算时段' END
        || '），原结算未退费' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '原结算ID=' || first_setl_id || '；原就诊ID=' || first_mdtrt_id || '；原结算时间=' || CAST(first_setl_time AS VARCHAR)
        || '；判定依据=' || CASE WHEN same_lines THEN '明细完全一致' ELSE '同一就诊同一时段' END AS detail
FROM dup
WHERE rn = 1
