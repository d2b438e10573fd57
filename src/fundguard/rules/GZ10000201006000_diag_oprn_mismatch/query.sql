-- 诊断编码与手术操作编码不符: the main operation of a visit falls in an operation group of kb diag_oprn
-- (related_codg = ICD-9-CM-3 prefix) while the main diagnosis matches none of the diagnosis prefixes
-- (code_prefix) the knowledge allows for the groups that operation belongs to.
WITH main_oprn AS (
    SELECT mdtrt_id, oprn_oprt_code, oprn_oprt_name, oprn_oprt_date, oper_dr_code
    FROM (
        SELECT
            o.*,
            row_number() OVER (
                PARTITION BY o.mdtrt_id
                ORDER BY CASE WHEN o.oprn_oprt_type = '1' THEN 0 ELSE 1 END, o.oprn_srt_no
            ) AS rn
        FROM oprn o
    ) x
    WHERE rn = 1
),
main_diag AS (
    SELECT m.mdtrt_id, coalesce(d.diag_code, m.dscg_maindiag_code) AS diag_code,
        coalesce(d.diag_name, m.dscg_maindiag_name) AS diag_name
    FROM mdtrt m
    LEFT JOIN (
        SELECT mdtrt_id, diag_code, diag_name,
            row_number() OVER (PARTITION BY mdtrt_id ORDER BY diag_srt_no) AS rn
        FROM diag
        WHERE maindiag_flag = '1' AND mdtrt_id IN (SELECT mdtrt_id FROM oprn)
    ) d ON d.mdtrt_id = m.mdtrt_id AND d.rn = 1
    -- only visits with an operation can fire: not every visit's main diagnosis (docs/performance.md, round 2)
    WHERE m.mdtrt_id IN (SELECT mdtrt_id FROM oprn)
),
governed AS (
    SELECT o.mdtrt_id, k.kp_id, k.code_prefix, k.group_name
    FROM main_oprn o
    JOIN kb k
        ON k.kp_type = 'diag_oprn'
        AND k.related_codg IS NOT NULL AND k.related_codg <> ''
        AND o.oprn_oprt_code LIKE k.related_codg || '%'
),
verdict AS (
    SELECT
        g.mdtrt_id,
        min(g.group_name) AS group_name,
        min(g.kp_id) AS kp_id,
        sum(CASE WHEN upper(d.diag_code) LIKE upper(g.code_prefix) || '%' THEN 1 ELSE 0 END) AS n_match
    FROM governed g
    JOIN main_diag d ON d.mdtrt_id = g.mdtrt_id
    WHERE d.diag_code IS NOT NULL AND d.diag_code <> ''
    GROUP BY g.mdtrt_id
),
first_setl AS (
    SELECT mdtrt_id, min(setl_id) AS setl_id
    FROM setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM verdict WHERE n_match = 0)
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    s.setl_id,
    v.mdtrt_id,
    m.psn_no,
    m.fixmedins_code,
    o.oper_dr_code AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(coalesce(o.oprn_oprt_date, m.begntime) AS TIMESTAMP) AS occur_time,
    CAST(0 AS DECIMAL(16, 2)) AS violation_amount,
    '主要手术「' || o.oprn_oprt_code || ' ' || coalesce(o.oprn_oprt_name, '') || '」（' || v.group_name || '）与主要诊断「'
        || d.diag_code || ' ' || coalesce(d.diag_name, '') || '」不相符' AS message,
    v.kp_id,
    '主要手术=' || o.oprn_oprt_code || '；手术组=' || v.group_name || '；主要诊断=' || d.diag_code AS detail
FROM verdict v
JOIN mdtrt m ON m.mdtrt_id = v.mdtrt_id
JOIN main_oprn o ON o.mdtrt_id = v.mdtrt_id
JOIN main_diag d ON d.mdtrt_id = v.mdtrt_id
LEFT JOIN first_setl s ON s.mdtrt_id = v.mdtrt_id
WHERE v.n_match = 0
