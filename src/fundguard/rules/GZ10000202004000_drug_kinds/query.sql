-- 药品种类超标: on one outpatient visit, one prescribing department and one day, more distinct drugs
-- (西药/中成药/制剂/民族药; 中药饮片 are one 处方 of many herbs and excluded) than ${max_kinds}. Kinds are
-- ranked by first fee time; the lines of kinds ranked beyond the limit are flagged. Fully refunded
-- kinds do not count.
-- Speed (20M lines): a (visit, department, day) can exceed the limit only if it has more drug lines than the
-- limit, so kinds are aggregated and ranked only for those groups (counted on a narrow scan first); the full lines
-- are read again only for the kinds ranked beyond the limit.
-- A line is outpatient (and not a pharmacy purchase) by its own 医疗类别, by its visit's only when it has none
-- (decision 0019), so inpatient and pharmacy lines drop out of the narrow count already.
WITH busy AS (
    SELECT mdtrt_id, coalesce(bilg_dept_codg, '') AS dept_key, fee_date
    FROM fee
    WHERE list_type IN ('101', '103', '104')
        AND (med_type IS NULL OR (NOT line_is_inpatient AND med_type <> '41'))
    GROUP BY mdtrt_id, coalesce(bilg_dept_codg, ''), fee_date
    HAVING count(*) > ${max_kinds}
),
busy_line AS NOT MATERIALIZED (
    SELECT f.mdtrt_id, f.bilg_dept_codg, f.fee_date, f.med_list_codg, f.fee_ocur_time, f.cnt, f.med_type,
        f.line_is_inpatient
    FROM fee f
    JOIN busy b ON b.mdtrt_id = f.mdtrt_id AND b.dept_key = coalesce(f.bilg_dept_codg, '') AND b.fee_date = f.fee_date
    WHERE f.list_type IN ('101', '103', '104')
),
drug_lines AS (
    SELECT mdtrt_id, bilg_dept_codg, fee_date, med_list_codg, fee_ocur_time, cnt
    FROM busy_line
    WHERE med_type IS NOT NULL AND NOT line_is_inpatient AND med_type <> '41'
    UNION ALL
    SELECT l.mdtrt_id, l.bilg_dept_codg, l.fee_date, l.med_list_codg, l.fee_ocur_time, l.cnt
    FROM busy_line l
    JOIN mdtrt m ON m.mdtrt_id = l.mdtrt_id
    WHERE l.med_type IS NULL
        AND NOT m.is_inpatient
        AND coalesce(m.med_type, '') <> '41'
),
kinds AS (
    SELECT
        mdtrt_id,
        bilg_dept_codg,
        fee_date,
        med_list_codg,
        min(fee_ocur_time) AS first_time,
        sum(cnt) AS net_cnt
    FROM drug_lines
    GROUP BY mdtrt_id, bilg_dept_codg, fee_date, med_list_codg
),
ranked AS (
    SELECT
        k.*,
        row_number() OVER (
            PARTITION BY mdtrt_id, bilg_dept_codg, fee_date ORDER BY first_time, med_list_codg
        ) AS kind_no,
        count(*) OVER (PARTITION BY mdtrt_id, bilg_dept_codg, fee_date) AS n_kinds
    FROM kinds k
    WHERE net_cnt > 0
)
SELECT
    f.feedetl_sn,
    f.setl_id,
    f.mdtrt_id,
    f.psn_no,
    f.fixmedins_code,
    f.bilg_dr_codg,
    f.med_list_codg,
    CAST(f.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(f.amt AS DECIMAL(16, 2)) AS violation_amount,
    CAST(f.fee_date AS VARCHAR) || '同一科室开具药品' || CAST(r.n_kinds AS VARCHAR) || '种，超过' || CAST(${max_kinds} AS VARCHAR)
        || '种；「' || coalesce(f.hilist_name, f.med_list_codg) || '」为第' || CAST(r.kind_no AS VARCHAR) || '种' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '开药日期=' || CAST(f.fee_date AS VARCHAR) || '；开单科室=' || coalesce(f.bilg_dept_codg, '') || '；药品种数='
        || CAST(r.n_kinds AS VARCHAR) || '；上限=' || CAST(${max_kinds} AS VARCHAR) || '；本药品序号=' || CAST(r.kind_no AS VARCHAR)
        AS detail
FROM fee f
JOIN ranked r
    ON r.mdtrt_id = f.mdtrt_id
    AND coalesce(r.bilg_dept_codg, '') = coalesce(f.bilg_dept_codg, '')
    AND r.fee_date = f.fee_date
    AND r.med_list_codg = f.med_list_codg
WHERE r.kind_no > ${max_kinds} AND f.cnt > 0
    AND f.list_type IN ('101', '103', '104')
