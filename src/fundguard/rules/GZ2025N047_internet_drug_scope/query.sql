-- 超互联网医院药品支付范围: a drug that 互联网诊疗 must not prescribe (kb internet_forbidden: 麻醉药品、
-- 精神药品 by code or class prefix) billed on an internet visit. The national tables carry no internet
-- flag, so an internet visit is one whose visit department, prescribing department or institution name
-- contains ${internet_keyword} (e.g. 互联网医院, 互联网诊疗科).
WITH internet_lines AS (
    SELECT f.*, m.dept_name, i.fixmedins_name
    FROM fee f
    JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
    LEFT JOIN medins i ON i.fixmedins_code = f.fixmedins_code
    WHERE f.cnt > 0
        AND (
            coalesce(m.dept_name, '') LIKE '%' || ${internet_keyword} || '%'
            OR coalesce(f.bilg_dept_name, '') LIKE '%' || ${internet_keyword} || '%'
            OR coalesce(i.fixmedins_name, '') LIKE '%' || ${internet_keyword} || '%'
        )
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
    JOIN kb k
        ON k.kp_type = 'internet_forbidden'
        AND (
            l.med_list_codg = k.med_list_codg
            OR (k.code_prefix IS NOT NULL AND k.code_prefix <> '' AND l.med_list_codg LIKE k.code_prefix || '%')
        )
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
