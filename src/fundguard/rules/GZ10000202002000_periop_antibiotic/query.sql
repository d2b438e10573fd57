-- 围手术期抗菌药物预防性应用: on a surgical inpatient stay with no infection diagnosis, antibacterial
-- lines (drug code class prefix ${antibacterial_prefix}) billed more than ${max_days_after} days after
-- the most recent operation: prophylaxis beyond 48 hours (《抗菌药物临床应用指导原则（2015年版）》).
-- Infection diagnoses are ICD-10 chapters/categories/subcategories listed in ${infection_diag_codes}.
WITH infected AS (
    SELECT DISTINCT mdtrt_id
    FROM (
        SELECT mdtrt_id, upper(diag_code) AS code FROM diag
        UNION ALL
        SELECT mdtrt_id, upper(dscg_maindiag_code) AS code FROM mdtrt WHERE dscg_maindiag_code IS NOT NULL
    ) d
    WHERE substr(code, 1, 1) IN ${infection_diag_codes}
        OR substr(code, 1, 3) IN ${infection_diag_codes}
        OR substr(code, 1, 5) IN ${infection_diag_codes}
),
surgical AS (
    SELECT o.mdtrt_id, CAST(o.oprn_oprt_date AS DATE) AS oprn_date, o.oprn_oprt_code, o.oprn_oprt_name
    FROM oprn o
    JOIN mdtrt m ON m.mdtrt_id = o.mdtrt_id
    LEFT JOIN infected i ON i.mdtrt_id = o.mdtrt_id
    WHERE m.is_inpatient AND i.mdtrt_id IS NULL AND o.oprn_oprt_date IS NOT NULL
),
abx AS (
    SELECT f.*
    FROM fee f
    WHERE f.cnt > 0 AND f.med_list_codg LIKE ${antibacterial_prefix} || '%'
),
paired AS (
    SELECT
        a.feedetl_sn,
        a.setl_id,
        a.mdtrt_id,
        a.psn_no,
        a.fixmedins_code,
        a.bilg_dr_codg,
        a.med_list_codg,
        a.hilist_name,
        a.fee_ocur_time,
        a.fee_date,
        a.amt,
        s.oprn_date,
        s.oprn_oprt_code,
        s.oprn_oprt_name,
        row_number() OVER (PARTITION BY a.feedetl_sn ORDER BY s.oprn_date DESC, s.oprn_oprt_code) AS rn
    FROM abx a
    JOIN surgical s ON s.mdtrt_id = a.mdtrt_id AND s.oprn_date <= a.fee_date
)
SELECT
    feedetl_sn,
    setl_id,
    mdtrt_id,
    psn_no,
    fixmedins_code,
    bilg_dr_codg,
    med_list_codg,
    CAST(fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(amt AS DECIMAL(16, 2)) AS violation_amount,
    '手术（' || coalesce(oprn_oprt_code, '') || ' ' || coalesce(oprn_oprt_name, '') || '，' || CAST(oprn_date AS VARCHAR)
        || '）后第' || CAST(date_diff('day', oprn_date, fee_date) AS VARCHAR) || '天仍使用抗菌药物「'
        || coalesce(hilist_name, med_list_codg) || '」，且无感染诊断，预防用药超过' || CAST(${max_days_after} AS VARCHAR)
        || '天' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '手术日期=' || CAST(oprn_date AS VARCHAR) || '；用药日期=' || CAST(fee_date AS VARCHAR) || '；术后天数='
        || CAST(date_diff('day', oprn_date, fee_date) AS VARCHAR) || '；预防用药上限天数=' || CAST(${max_days_after} AS VARCHAR)
        || '；感染诊断=无' AS detail
FROM paired
WHERE rn = 1 AND date_diff('day', oprn_date, fee_date) > ${max_days_after}
