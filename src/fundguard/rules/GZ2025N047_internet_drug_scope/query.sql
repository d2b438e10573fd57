-- 超互联网医院药品支付范围: a drug that 互联网诊疗 must not prescribe (kb internet_forbidden: 麻醉药品、
-- 精神药品 by code or class prefix) billed on an internet visit. The national tables carry no internet
-- flag, so an internet visit is one whose visit department, prescribing department or institution name
-- contains ${internet_keyword} (e.g. 互联网医院, 互联网诊疗科).
-- Knowledge first (docs/performance.md, round 3): the points are matched on the distinct billed codes
-- (shared relation kb_code_kp, filled once per screen); only the lines of matched codes are joined to their
-- visit and institution for the internet test.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, group_name,
        -- a prefix with a LIKE wildcard or escape character keeps the LIKE below (kb_code_kp compares text)
        coalesce(strpos(code_prefix, '%') > 0 OR strpos(code_prefix, '_') > 0 OR strpos(code_prefix, chr(92)) > 0, FALSE)
            AS wild
    FROM kb
    WHERE kp_type = 'internet_forbidden'
),
code_kp AS (
    -- (billed code, point): equal code or `code LIKE code_prefix || '%'`, as the former join on every line
    SELECT c.med_list_codg, c.kp_id
    FROM kb_code_kp c
    JOIN ik k ON k.kp_id = c.kp_id
    WHERE c.kp_type = 'internet_forbidden' AND c.pos = 1 AND (c.match_by = 'code' OR NOT k.wild)
    UNION
    SELECT b.med_list_codg, k.kp_id
    FROM kb_billed b
    JOIN ik k ON k.wild AND b.med_list_codg LIKE k.code_prefix || '%'
    WHERE b.pos = 1
    UNION
    -- an empty point code equals an empty line code (kb_code_kp leaves empty codes out)
    SELECT '' AS med_list_codg, kp_id FROM ik WHERE med_list_codg = ''
),
lines_k AS (
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.amt, f.bilg_dept_name
    FROM fee f
    WHERE f.cnt > 0 AND f.med_list_codg IN (SELECT med_list_codg FROM code_kp)
),
internet_lines AS (
    SELECT l.*, m.dept_name, i.fixmedins_name
    FROM lines_k l
    JOIN mdtrt m ON m.mdtrt_id = l.mdtrt_id
    LEFT JOIN medins i ON i.fixmedins_code = l.fixmedins_code
    WHERE coalesce(m.dept_name, '') LIKE '%' || ${internet_keyword} || '%'
        OR coalesce(l.bilg_dept_name, '') LIKE '%' || ${internet_keyword} || '%'
        OR coalesce(i.fixmedins_name, '') LIKE '%' || ${internet_keyword} || '%'
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        k.group_name,
        row_number() OVER (
            PARTITION BY l.feedetl_sn ORDER BY length(coalesce(k.med_list_codg, k.code_prefix)) DESC, k.kp_id
        ) AS rn
    FROM internet_lines l
    JOIN code_kp c ON c.med_list_codg = l.med_list_codg
    JOIN ik k ON k.kp_id = c.kp_id
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
    '互联网诊疗开具「' || coalesce(hilist_name, med_list_codg) || '」（' || coalesce(group_name, '麻醉药品/精神药品')
        || '），超出互联网医院药品支付范围' AS message,
    kp_id,
    '药品类别=' || coalesce(group_name, '麻精') || '；互联网诊疗依据=' ||
        CASE
            WHEN coalesce(dept_name, '') LIKE '%' || ${internet_keyword} || '%' THEN '就诊科室：' || dept_name
            WHEN coalesce(bilg_dept_name, '') LIKE '%' || ${internet_keyword} || '%' THEN '开单科室：' || bilg_dept_name
            ELSE '机构名称：' || fixmedins_name
        END AS detail
FROM hit
WHERE rn = 1
