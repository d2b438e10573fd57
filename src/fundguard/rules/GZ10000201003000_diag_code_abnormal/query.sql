-- 疾病诊断编码异常: per visit, diagnoses whose code is not in ICD-10 医保版 (kb icd10; checked only when
-- the catalogue is loaded), whose name differs from the catalogue name of the code, and diagnoses on a
-- visit that has no fee line at all (清单诊断在结算明细中无任何对应项目、药品或耗材).
-- Speed (20M lines): the visits that can have a defect are found first (a diagnosis row outside the catalogue or
-- with another name, or a finished visit with diagnoses and no fee line); the per-visit counts, the fee line count
-- and the settlement are computed only for them.
WITH diag_rows AS (
    SELECT mdtrt_id, diag_code, diag_name FROM diag WHERE diag_code IS NOT NULL AND diag_code <> ''
    UNION ALL
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code, dscg_maindiag_name AS diag_name
    FROM mdtrt
    WHERE dscg_maindiag_code IS NOT NULL AND dscg_maindiag_code <> ''
),
-- only the catalogue rows of the codes on the visits (事中 on SQLite: not all 33 000 grouped in every statement);
-- whether the catalogue is loaded at all is one probe
catalogue AS (
    SELECT upper(med_list_codg) AS code, min(item_name) AS item_name
    FROM kb
    WHERE kp_type = 'icd10' AND med_list_codg IS NOT NULL
        AND upper(med_list_codg) IN (SELECT upper(diag_code) FROM diag_rows)
    GROUP BY upper(med_list_codg)
),
loaded AS (
    -- 1 when the catalogue is loaded (any row), else 0
    SELECT count(*) AS n FROM (SELECT 1 AS one FROM kb WHERE kp_type = 'icd10' AND med_list_codg IS NOT NULL LIMIT 1) x
),
-- finished visits without any fee line: looked up in the shared relation setl_fee (fee lines aggregated per
-- settlement and visit; every line of a visit is in one of its rows) instead of the 20M lines
no_fee AS (
    SELECT m.mdtrt_id, m.dscg_maindiag_code
    FROM mdtrt m
    LEFT JOIN setl_fee a ON a.mdtrt_id = m.mdtrt_id
    WHERE m.enddate IS NOT NULL AND a.mdtrt_id IS NULL
),
candidate AS (
    SELECT d.mdtrt_id
    FROM diag_rows d
    CROSS JOIN loaded l
    LEFT JOIN catalogue c ON c.code = upper(d.diag_code)
    WHERE (l.n > 0 AND c.code IS NULL)
        OR (c.code IS NOT NULL AND d.diag_name IS NOT NULL AND d.diag_name <> '' AND d.diag_name <> c.item_name)
    UNION
    SELECT n.mdtrt_id
    FROM no_fee n
    WHERE n.dscg_maindiag_code IS NOT NULL AND n.dscg_maindiag_code <> ''
    UNION
    SELECT n.mdtrt_id
    FROM no_fee n
    JOIN diag d ON d.mdtrt_id = n.mdtrt_id
    WHERE d.diag_code IS NOT NULL AND d.diag_code <> ''
),
visit_diag AS (
    SELECT mdtrt_id, diag_code, diag_name FROM diag
    WHERE diag_code IS NOT NULL AND diag_code <> '' AND mdtrt_id IN (SELECT mdtrt_id FROM candidate)
    UNION
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code, dscg_maindiag_name AS diag_name
    FROM mdtrt
    WHERE dscg_maindiag_code IS NOT NULL AND dscg_maindiag_code <> '' AND mdtrt_id IN (SELECT mdtrt_id FROM candidate)
),
fee_cnt AS (
    SELECT mdtrt_id, sum(n_lines) AS n_lines FROM setl_fee WHERE mdtrt_id IN (SELECT mdtrt_id FROM candidate) GROUP BY mdtrt_id
),
per_diag AS (
    SELECT
        d.mdtrt_id,
        d.diag_code,
        CASE WHEN l.n > 0 AND c.code IS NULL THEN 1 ELSE 0 END AS unknown_code,
        CASE WHEN c.code IS NOT NULL AND d.diag_name IS NOT NULL AND d.diag_name <> ''
            AND d.diag_name <> c.item_name THEN 1 ELSE 0 END AS name_mismatch
    FROM visit_diag d
    CROSS JOIN loaded l
    LEFT JOIN catalogue c ON c.code = upper(d.diag_code)
),
per_visit AS (
    SELECT
        mdtrt_id,
        count(DISTINCT diag_code) AS n_diag,
        sum(unknown_code) AS n_unknown,
        sum(name_mismatch) AS n_name,
        min(CASE WHEN unknown_code = 1 THEN diag_code END) AS first_unknown,
        min(CASE WHEN name_mismatch = 1 THEN diag_code END) AS first_name
    FROM per_diag
    GROUP BY mdtrt_id
),
described AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.chfpdr_code,
        m.begntime,
        v.n_diag,
        coalesce(f.n_lines, 0) AS n_lines,
        CASE WHEN v.n_unknown > 0 THEN CAST(v.n_unknown AS VARCHAR) || '个诊断编码不在ICD-10医保版中（如'
            || v.first_unknown || '）；' ELSE '' END
        || CASE WHEN v.n_name > 0 THEN CAST(v.n_name AS VARCHAR) || '个诊断名称与医保版编码名称不符（如'
            || v.first_name || '）；' ELSE '' END
        || CASE WHEN m.enddate IS NOT NULL AND coalesce(f.n_lines, 0) = 0 THEN '填写了' || CAST(v.n_diag AS VARCHAR)
            || '个诊断但结算明细中无任何对应的项目、药品或耗材；' ELSE '' END AS defects
    FROM per_visit v
    JOIN mdtrt m ON m.mdtrt_id = v.mdtrt_id
    LEFT JOIN fee_cnt f ON f.mdtrt_id = v.mdtrt_id
),
first_setl AS (
    SELECT mdtrt_id, min(setl_id) AS setl_id FROM setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM candidate)
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    s.setl_id,
    d.mdtrt_id,
    d.psn_no,
    d.fixmedins_code,
    d.chfpdr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(d.begntime AS TIMESTAMP) AS occur_time,
    CAST(0 AS DECIMAL(16, 2)) AS violation_amount,
    '疾病诊断编码异常：' || substr(d.defects, 1, length(d.defects) - 1) AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    d.defects || '诊断数=' || CAST(d.n_diag AS VARCHAR) || '；费用明细数=' || CAST(d.n_lines AS VARCHAR) AS detail
FROM described d
LEFT JOIN first_setl s ON s.mdtrt_id = d.mdtrt_id
WHERE d.defects <> ''
