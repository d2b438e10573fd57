-- 手术操作编码异常: per visit, 缺失 (surgery fees billed but no operation on the 清单), 错编 (code not in
-- ICD-9-CM-3 医保版, kb icd9cm3, when loaded; name differing from the catalogue) and 主手术选择错误 (no
-- main operation, several, or the main one not listed first).
-- Speed (事中 on SQLite): only the catalogue rows of the codes on the operations are read, and whether the catalogue is
-- loaded at all is one probe, instead of grouping all 13 000+ catalogue rows in every statement.
WITH catalogue AS (
    SELECT med_list_codg AS code, min(item_name) AS item_name
    FROM kb
    WHERE kp_type = 'icd9cm3' AND med_list_codg IS NOT NULL
        AND med_list_codg IN (SELECT oprn_oprt_code FROM oprn)
    GROUP BY med_list_codg
),
loaded AS (
    -- 1 when the catalogue is loaded (any row), else 0
    SELECT count(*) AS n FROM (SELECT 1 AS one FROM kb WHERE kp_type = 'icd9cm3' AND med_list_codg IS NOT NULL LIMIT 1) x
),
ops AS (
    SELECT
        o.mdtrt_id,
        count(*) AS n_ops,
        sum(CASE WHEN l.n > 0 AND c.code IS NULL THEN 1 ELSE 0 END) AS n_unknown,
        min(CASE WHEN l.n > 0 AND c.code IS NULL THEN o.oprn_oprt_code END) AS first_unknown,
        sum(CASE WHEN c.code IS NOT NULL AND coalesce(o.oprn_oprt_name, '') <> '' AND o.oprn_oprt_name <> c.item_name
            THEN 1 ELSE 0 END) AS n_name,
        min(CASE WHEN c.code IS NOT NULL AND coalesce(o.oprn_oprt_name, '') <> '' AND o.oprn_oprt_name <> c.item_name
            THEN o.oprn_oprt_code END) AS first_name,
        sum(CASE WHEN o.oprn_oprt_type IS NOT NULL AND o.oprn_oprt_type <> '' THEN 1 ELSE 0 END) AS n_typed,
        sum(CASE WHEN o.oprn_oprt_type = '1' THEN 1 ELSE 0 END) AS n_main,
        min(o.oprn_srt_no) AS first_srt,
        min(CASE WHEN o.oprn_oprt_type = '1' THEN o.oprn_srt_no END) AS main_srt
    FROM oprn o
    CROSS JOIN loaded l
    LEFT JOIN catalogue c ON c.code = o.oprn_oprt_code
    GROUP BY o.mdtrt_id
),
surgery_fee AS (
    SELECT mdtrt_id, sum(cnt) AS net_cnt, sum(amt) AS surgery_amt
    FROM fee
    WHERE med_chrgitm_type = '06'
    GROUP BY mdtrt_id
),
visits AS (
    SELECT mdtrt_id FROM ops
    UNION
    SELECT mdtrt_id FROM surgery_fee WHERE net_cnt > 0
),
described AS (
    SELECT
        m.mdtrt_id,
        m.psn_no,
        m.fixmedins_code,
        m.chfpdr_code,
        m.begntime,
        coalesce(o.n_ops, 0) AS n_ops,
        CASE WHEN o.mdtrt_id IS NULL AND m.is_inpatient THEN '结算明细有手术费但医保结算清单无手术操作编码；' ELSE '' END
        || CASE WHEN o.n_unknown > 0 THEN CAST(o.n_unknown AS VARCHAR) || '个手术操作编码不在ICD-9-CM-3医保版中（如'
            || o.first_unknown || '）；' ELSE '' END
        || CASE WHEN o.n_name > 0 THEN CAST(o.n_name AS VARCHAR) || '个手术操作名称与医保版编码名称不符（如'
            || o.first_name || '）；' ELSE '' END
        || CASE WHEN o.n_typed > 0 AND o.n_main = 0 THEN '未选择主要手术；' ELSE '' END
        || CASE WHEN o.n_main > 1 THEN '主要手术多于一个；' ELSE '' END
        || CASE WHEN o.n_main = 1 AND o.main_srt > o.first_srt THEN '主要手术未排在第一位；' ELSE '' END AS defects
    FROM visits v
    JOIN mdtrt m ON m.mdtrt_id = v.mdtrt_id
    LEFT JOIN ops o ON o.mdtrt_id = v.mdtrt_id
),
first_setl AS (
    -- only for the visits reported, not every settlement (docs/performance.md, round 2)
    SELECT mdtrt_id, min(setl_id) AS setl_id
    FROM setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM described WHERE defects <> '')
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
    '手术操作编码异常：' || substr(d.defects, 1, length(d.defects) - 1) AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    d.defects || '手术操作数=' || CAST(d.n_ops AS VARCHAR) AS detail
FROM described d
LEFT JOIN first_setl s ON s.mdtrt_id = d.mdtrt_id
WHERE d.defects <> ''
