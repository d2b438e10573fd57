-- 无指征住院（低标准入院）: a discharged inpatient stay whose net fee lines contain no treatment at all —
-- no drug, 治疗费 or 手术费 (charge categories in ${treatment_chrgitm_types}) — only bed, nursing,
-- consultation, examinations and tests: the stay was for examination, or needed no admission.
WITH stay AS (
    SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.chfpdr_code, m.begntime, m.begndate, m.enddate,
        m.dscg_maindiag_code, m.dscg_maindiag_name
    FROM mdtrt m
    WHERE m.is_inpatient AND m.enddate IS NOT NULL AND coalesce(m.med_type, '') NOT IN ${excluded_med_types}
),
treat_sign AS (
    -- a stay with a billed treatment line and no treatment refund surely has treatment (its group nets
    -- positive), so only the other stays are netted per item (docs/performance.md, round 2)
    SELECT
        f.mdtrt_id,
        max(CASE WHEN f.cnt > 0 AND (f.med_chrgitm_type IN ${treatment_chrgitm_types}
            OR f.list_type IN ('101', '102', '103', '104')) THEN 1 ELSE 0 END) AS has_treat,
        max(CASE WHEN f.cnt < 0 AND (f.med_chrgitm_type IN ${treatment_chrgitm_types}
            OR f.list_type IN ('101', '102', '103', '104')) THEN 1 ELSE 0 END) AS has_treat_refund
    FROM fee f
    JOIN stay s ON s.mdtrt_id = f.mdtrt_id
    GROUP BY f.mdtrt_id
),
net AS (
    SELECT
        f.mdtrt_id,
        f.med_list_codg,
        f.med_chrgitm_type,
        f.list_type,
        sum(f.cnt) AS net_cnt,
        sum(f.amt) AS net_amt
    FROM fee f
    JOIN treat_sign t ON t.mdtrt_id = f.mdtrt_id
    WHERE t.has_treat = 0 OR t.has_treat_refund = 1
    GROUP BY f.mdtrt_id, f.med_list_codg, f.med_chrgitm_type, f.list_type
),
per_stay AS (
    SELECT
        mdtrt_id,
        sum(net_amt) AS stay_amt,
        sum(CASE WHEN net_cnt > 0 AND (med_chrgitm_type IN ${treatment_chrgitm_types}
            OR list_type IN ('101', '102', '103', '104')) THEN 1 ELSE 0 END) AS n_treatment,
        sum(CASE WHEN net_cnt > 0 AND med_chrgitm_type IN ('03', '04') THEN 1 ELSE 0 END) AS n_exam,
        sum(CASE WHEN net_cnt > 0 THEN 1 ELSE 0 END) AS n_items
    FROM net
    GROUP BY mdtrt_id
),
first_setl AS (
    SELECT mdtrt_id, min(setl_id) AS setl_id
    FROM setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM per_stay WHERE n_treatment = 0 AND n_items > 0)
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    fs.setl_id,
    s.mdtrt_id,
    s.psn_no,
    s.fixmedins_code,
    s.chfpdr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(s.begntime AS TIMESTAMP) AS occur_time,
    CAST(p.stay_amt AS DECIMAL(16, 2)) AS violation_amount,
    '住院' || CAST(date_diff('day', s.begndate, s.enddate) AS VARCHAR) || '天（' || CAST(s.begndate AS VARCHAR) || '至'
        || CAST(s.enddate AS VARCHAR) || '），费用仅有床位、护理、诊查及' || CAST(p.n_exam AS VARCHAR)
        || '项检查检验，无任何药品、治疗或手术，疑似无指征住院（低标准入院）' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '入院日期=' || CAST(s.begndate AS VARCHAR) || '；出院日期=' || CAST(s.enddate AS VARCHAR) || '；主诊断='
        || coalesce(s.dscg_maindiag_code, '') || ' ' || coalesce(s.dscg_maindiag_name, '') || '；收费项目数='
        || CAST(p.n_items AS VARCHAR) || '；检查检验项目数=' || CAST(p.n_exam AS VARCHAR) || '；治疗类项目数=0' AS detail
FROM stay s
JOIN per_stay p ON p.mdtrt_id = s.mdtrt_id
LEFT JOIN first_setl fs ON fs.mdtrt_id = s.mdtrt_id
WHERE p.n_treatment = 0 AND p.n_items > 0
