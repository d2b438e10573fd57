-- 诊断与患者年龄不符: a diagnosis whose ICD-10 prefix (kb diag_age) limits the age to "a-b" whole
-- years, on a visit of a person whose age at admission/visit is outside [a, b]. One finding per visit.
-- Candidates first: the OR/prefix match runs over the distinct diagnosis codes (a few thousand) × the
-- few points; only visits with a matching code are aged and priced (docs/performance.md, round 2).
WITH visit_diag AS (
    SELECT mdtrt_id, diag_code, diag_name, diag_srt_no
    FROM diag
    WHERE diag_code IS NOT NULL
    UNION ALL
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code, dscg_maindiag_name AS diag_name, 0 AS diag_srt_no
    FROM mdtrt
    WHERE dscg_maindiag_code IS NOT NULL
),
ranged AS (
    SELECT
        kp_id,
        code_prefix,
        med_list_codg,
        limit_value,
        CAST(substr(limit_value, 1, instr(limit_value, '-') - 1) AS INTEGER) AS age_lo,
        CAST(substr(limit_value, instr(limit_value, '-') + 1) AS INTEGER) AS age_hi
    FROM kb
    WHERE kp_type = 'diag_age' AND instr(coalesce(limit_value, ''), '-') > 1
),
code_kp AS (
    SELECT c.diag_code, k.*
    FROM (SELECT DISTINCT diag_code FROM visit_diag) c
    JOIN ranged k
        ON (k.code_prefix IS NOT NULL AND k.code_prefix <> '' AND upper(c.diag_code) LIKE upper(k.code_prefix) || '%')
        OR upper(c.diag_code) = upper(k.med_list_codg)
),
aged AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.chfpdr_code,
        m.begntime,
        year(m.begndate) - year(p.brdy)
            - CASE WHEN month(m.begndate) * 100 + day(m.begndate) < month(p.brdy) * 100 + day(p.brdy) THEN 1 ELSE 0 END
            AS age
    FROM mdtrt m
    JOIN psn p ON p.psn_no = m.psn_no
    WHERE p.brdy IS NOT NULL AND m.begndate IS NOT NULL
        AND m.mdtrt_id IN (SELECT d.mdtrt_id FROM visit_diag d JOIN code_kp k ON k.diag_code = d.diag_code)
),
hit AS (
    SELECT
        a.*,
        d.diag_code,
        d.diag_name,
        k.kp_id,
        k.limit_value,
        row_number() OVER (
            PARTITION BY a.mdtrt_id
            ORDER BY d.diag_srt_no, length(coalesce(k.code_prefix, k.med_list_codg)) DESC, k.kp_id
        ) AS rn
    FROM visit_diag d
    JOIN code_kp k ON k.diag_code = d.diag_code
    JOIN aged a ON a.mdtrt_id = d.mdtrt_id
    WHERE a.age < k.age_lo OR a.age > k.age_hi
),
visit_amt AS (
    SELECT mdtrt_id, sum(amt) AS visit_amt, min(setl_id) AS setl_id
    FROM fee
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM hit WHERE rn = 1)
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    v.setl_id,
    h.mdtrt_id,
    h.psn_no,
    h.fixmedins_code,
    h.chfpdr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(h.begntime AS TIMESTAMP) AS occur_time,
    CAST(coalesce(v.visit_amt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '诊断「' || h.diag_code || ' ' || coalesce(h.diag_name, '') || '」限' || h.limit_value || '岁患者，参保人就诊时'
        || CAST(h.age AS VARCHAR) || '岁，诊断与患者年龄不符' AS message,
    h.kp_id,
    '诊断代码=' || h.diag_code || '；限定年龄=' || h.limit_value || '岁；患者年龄=' || CAST(h.age AS VARCHAR) || '岁' AS detail
FROM hit h
LEFT JOIN visit_amt v ON v.mdtrt_id = h.mdtrt_id
WHERE h.rn = 1
