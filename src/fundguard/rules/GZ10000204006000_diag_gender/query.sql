-- 诊断与患者性别不符: a gender-specific diagnosis (ICD-10 prefix from kb diag_gender) on a visit of
-- a person of the other gender. One finding per visit; amount = the visit's in-scope amount.
WITH visit_diag AS NOT MATERIALIZED (  -- read twice: two scans beat materializing 7.5M rows
    SELECT mdtrt_id, diag_code, diag_name, diag_srt_no
    FROM diag
    WHERE diag_code IS NOT NULL
    UNION ALL
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code, dscg_maindiag_name AS diag_name, 0 AS diag_srt_no
    FROM mdtrt
    WHERE dscg_maindiag_code IS NOT NULL
),
gk AS (
    -- match keys of a point: its exact code (length -1) and its prefix (its length), upper-cased
    SELECT kp_id, code_prefix, med_list_codg, limit_value, upper(med_list_codg) AS mkey, -1 AS mlen
    FROM kb
    WHERE kp_type = 'diag_gender' AND med_list_codg IS NOT NULL
    UNION ALL
    SELECT kp_id, code_prefix, med_list_codg, limit_value, upper(code_prefix) AS mkey, length(code_prefix) AS mlen
    FROM kb
    WHERE kp_type = 'diag_gender' AND code_prefix IS NOT NULL AND code_prefix <> ''
),
match_len AS (
    SELECT DISTINCT mlen AS len FROM gk
),
-- Speed: the distinct diagnosis codes (thousands, where the diagnoses are millions) are cut to the key lengths that
-- occur and hash-joined (no loop over diagnoses x points, no cut of every diagnosis); the visit and person joins
-- then run only for the matched diagnoses.
code_kp AS (
    SELECT c.diag_code, k.kp_id, k.code_prefix, k.med_list_codg, k.limit_value
    FROM (
        SELECT d.diag_code, l.len,
            CASE WHEN l.len = -1 THEN upper(d.diag_code) ELSE substr(upper(d.diag_code), 1, l.len) END AS mkey
        FROM (SELECT DISTINCT diag_code FROM visit_diag) d CROSS JOIN match_len l
    ) c
    JOIN gk k ON k.mkey = c.mkey AND k.mlen = c.len
),
diag_hit AS (
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.diag_srt_no, k.kp_id, k.code_prefix, k.med_list_codg, k.limit_value
    FROM visit_diag d
    JOIN code_kp k ON k.diag_code = d.diag_code
),
hit AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.chfpdr_code,
        m.begntime,
        d.diag_code,
        d.diag_name,
        d.kp_id,
        d.limit_value,
        p.gend,
        row_number() OVER (
            PARTITION BY m.mdtrt_id
            ORDER BY d.diag_srt_no, length(coalesce(d.code_prefix, d.med_list_codg)) DESC, d.kp_id
        ) AS rn
    FROM diag_hit d
    JOIN mdtrt m ON m.mdtrt_id = d.mdtrt_id
    JOIN psn p ON p.psn_no = m.psn_no
    WHERE (p.gend = '1' AND d.limit_value = '女') OR (p.gend = '2' AND d.limit_value = '男')
),
visit_amt AS (
    -- only the flagged visits' lines are summed
    SELECT mdtrt_id, sum(amt) AS visit_amt, min(setl_id) AS setl_id
    FROM fee
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM hit WHERE rn = 1)
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    a.setl_id,
    h.mdtrt_id,
    h.psn_no,
    h.fixmedins_code,
    h.chfpdr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(h.begntime AS TIMESTAMP) AS occur_time,
    CAST(coalesce(a.visit_amt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '诊断「' || h.diag_code || ' ' || coalesce(h.diag_name, '') || '」限' || h.limit_value || '性患者，参保人性别为'
        || CASE WHEN h.gend = '1' THEN '男' ELSE '女' END || '，诊断与患者性别不符' AS message,
    h.kp_id,
    '诊断代码=' || h.diag_code || '；限定性别=' || h.limit_value || '；患者性别='
        || CASE WHEN h.gend = '1' THEN '男' ELSE '女' END AS detail
FROM hit h
LEFT JOIN visit_amt a ON a.mdtrt_id = h.mdtrt_id
WHERE h.rn = 1
