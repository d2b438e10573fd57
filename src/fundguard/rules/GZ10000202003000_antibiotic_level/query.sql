-- 抗菌药物分级使用管理: antibiotic lines (kb antibiotic_level, longest matching prefix) that break the
-- grading rules of 《抗菌药物临床应用管理办法》: 特殊 grade used on an outpatient visit (第二十八条), or
-- prescribed by a doctor whose title is below the grade (第二十四条: 特殊 → 高级, 限制 → 中级及以上).
-- Titles are read from practitioner.pro_tech_duty; an unknown title is not judged.
-- Knowledge first (docs/performance.md, round 3): the grades are matched on the distinct billed codes (shared
-- relation kb_code_kp, filled once per screen), so only the lines of graded codes are read.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, limit_value,
        -- a prefix with a LIKE wildcard or escape character keeps the LIKE below (kb_code_kp compares text)
        coalesce(strpos(code_prefix, '%') > 0 OR strpos(code_prefix, '_') > 0 OR strpos(code_prefix, chr(92)) > 0, FALSE)
            AS wild
    FROM kb
    WHERE kp_type = 'antibiotic_level'
),
code_kp AS (
    -- (billed code, point): equal code or `code LIKE code_prefix || '%'`, as the former join on every line
    SELECT c.med_list_codg, c.kp_id
    FROM kb_code_kp c
    JOIN ik k ON k.kp_id = c.kp_id
    WHERE c.kp_type = 'antibiotic_level' AND c.pos = 1 AND (c.match_by = 'code' OR NOT k.wild)
    UNION
    SELECT b.med_list_codg, k.kp_id
    FROM kb_billed b
    JOIN ik k ON k.wild AND b.med_list_codg LIKE k.code_prefix || '%'
    WHERE b.pos = 1
    UNION
    -- an empty point code equals an empty line code (kb_code_kp leaves empty codes out)
    SELECT '' AS med_list_codg, kp_id FROM ik WHERE med_list_codg = ''
),
graded AS (
    SELECT
        f.feedetl_sn,
        f.setl_id,
        f.mdtrt_id,
        f.psn_no,
        f.fixmedins_code,
        f.bilg_dr_codg,
        f.med_list_codg,
        f.hilist_name,
        f.fee_ocur_time,
        f.amt,
        k.kp_id,
        k.limit_value AS grade,
        row_number() OVER (
            PARTITION BY f.feedetl_sn ORDER BY length(coalesce(k.med_list_codg, k.code_prefix)) DESC, k.kp_id
        ) AS rn
    FROM fee f
    JOIN code_kp c ON c.med_list_codg = f.med_list_codg
    JOIN ik k ON k.kp_id = c.kp_id
    WHERE f.cnt > 0
),
judged AS (
    SELECT
        g.*,
        m.is_inpatient,
        p.pro_tech_duty,
        CASE
            WHEN p.pro_tech_duty IS NULL OR p.pro_tech_duty = '' THEN NULL
            WHEN p.pro_tech_duty LIKE '%主任%' THEN 3
            WHEN p.pro_tech_duty LIKE '%主治%' OR p.pro_tech_duty LIKE '%中级%' THEN 2
            ELSE 1
        END AS title_rank,
        CASE g.grade WHEN '特殊' THEN 3 WHEN '限制' THEN 2 ELSE 1 END AS grade_rank
    FROM graded g
    JOIN mdtrt m ON m.mdtrt_id = g.mdtrt_id
    LEFT JOIN prac p ON p.prac_code = g.bilg_dr_codg
    WHERE g.rn = 1
),
flagged AS (
    SELECT
        j.*,
        CASE WHEN j.grade = '特殊' AND NOT j.is_inpatient THEN 1 ELSE 0 END AS otp_special,
        CASE WHEN j.title_rank IS NOT NULL AND j.title_rank < j.grade_rank THEN 1 ELSE 0 END AS title_low
    FROM judged j
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
    '「' || coalesce(hilist_name, med_list_codg) || '」为' || grade || '使用级抗菌药物：'
        || CASE WHEN otp_special = 1 THEN '特殊使用级不得在门诊使用' ELSE '' END
        || CASE WHEN otp_special = 1 AND title_low = 1 THEN '；' ELSE '' END
        || CASE WHEN title_low = 1 THEN '开单医师职称（' || pro_tech_duty || '）不具备该级别处方权' ELSE '' END AS message,
    kp_id,
    '抗菌药物级别=' || grade || '；就医方式=' || CASE WHEN is_inpatient THEN '住院' ELSE '门诊' END || '；开单医师职称='
        || coalesce(pro_tech_duty, '未知') AS detail
FROM flagged
WHERE otp_special = 1 OR title_low = 1
