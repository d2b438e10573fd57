-- 手术操作编码与性别不符: an operation (oprn_d, ICD-9-CM-3) whose prefix (kb oprn_gender) limits it to one
-- gender, on a visit of a person of the other gender. One finding per visit.
WITH hit AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        o.oper_dr_code,
        o.oprn_oprt_date,
        o.oprn_oprt_code,
        o.oprn_oprt_name,
        k.kp_id,
        k.limit_value,
        p.gend,
        row_number() OVER (
            PARTITION BY m.mdtrt_id
            ORDER BY o.oprn_srt_no, length(coalesce(k.code_prefix, k.med_list_codg)) DESC, k.kp_id
        ) AS rn
    FROM oprn o
    JOIN mdtrt m ON m.mdtrt_id = o.mdtrt_id
    JOIN psn p ON p.psn_no = m.psn_no
    JOIN kb k
        ON k.kp_type = 'oprn_gender'
        AND (
            (k.code_prefix IS NOT NULL AND k.code_prefix <> '' AND o.oprn_oprt_code LIKE k.code_prefix || '%')
            OR o.oprn_oprt_code = k.med_list_codg
        )
    WHERE (p.gend = '1' AND k.limit_value = '女') OR (p.gend = '2' AND k.limit_value = '男')
),
surgery_amt AS (
    SELECT mdtrt_id, sum(amt) AS oprn_amt, min(setl_id) AS setl_id
    FROM fee
    WHERE med_chrgitm_type = '06'
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    a.setl_id,
    h.mdtrt_id,
    h.psn_no,
    h.fixmedins_code,
    h.oper_dr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(h.oprn_oprt_date AS TIMESTAMP) AS occur_time,
    CAST(coalesce(a.oprn_amt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '手术操作「' || h.oprn_oprt_code || ' ' || coalesce(h.oprn_oprt_name, '') || '」限' || h.limit_value
        || '性患者，参保人性别为' || CASE WHEN h.gend = '1' THEN '男' ELSE '女' END || '，手术操作编码与性别不符' AS message,
    h.kp_id,
    '手术操作代码=' || h.oprn_oprt_code || '；限定性别=' || h.limit_value || '；患者性别='
        || CASE WHEN h.gend = '1' THEN '男' ELSE '女' END AS detail
FROM hit h
LEFT JOIN surgery_amt a ON a.mdtrt_id = h.mdtrt_id
WHERE h.rn = 1
