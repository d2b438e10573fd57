-- 妊娠期及哺乳期用药安全: a drug forbidden in pregnancy (or lactation) billed on a visit that documents
-- an ongoing pregnancy (ICD-10 O09–O99, Z33–Z36) or lactation (Z39.1) of a female patient.
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes and names, and
-- refunds and diagnoses are computed only for the lines and visits that matched.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name FROM kb WHERE kp_type = 'drug_pregnancy'
),
code_kp AS (
    -- billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'drug_pregnancy' AND pos = 1
),
name_kp AS (
    -- billed (code, name) pairs of positive lines whose name contains a name-only point (kb_name_kp)
    SELECT DISTINCT med_list_codg, hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'drug_pregnancy' AND pos = 1 AND med_list_codg IS NOT NULL
),
lines_k AS (
    -- positive lines of a matched code
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    WHERE f.cnt > 0
      AND f.med_list_codg IN (SELECT med_list_codg FROM code_kp UNION SELECT med_list_codg FROM name_kp)
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0 AND init_feedetl_sn IN (SELECT feedetl_sn FROM lines_k)
    GROUP BY init_feedetl_sn
),
lines AS (
    -- those lines net of their refunds (fully refunded lines drop out below)
    SELECT l.*, l.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM lines_k l
    LEFT JOIN refunds r ON r.init_feedetl_sn = l.feedetl_sn
),
cand AS (
    SELECT l.feedetl_sn, l.med_list_codg, l.hilist_name
    FROM lines l
    WHERE l.net_amt > 0
),
kmatch AS (
    -- (line, point) pairs, one row each
    SELECT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN code_kp m ON m.med_list_codg = c.med_list_codg
    UNION
    SELECT c.feedetl_sn, m.kp_id
    FROM cand c
    JOIN name_kp m ON m.med_list_codg = c.med_list_codg AND m.hilist_name = c.hilist_name
),
vdiag AS (
    -- diagnoses of the matched visits only
    SELECT mdtrt_id, upper(diag_code) AS diag_code
    FROM diag
    WHERE diag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM lines)
    UNION
    SELECT mdtrt_id, upper(dscg_maindiag_code) AS diag_code
    FROM mdtrt
    WHERE dscg_maindiag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM lines)
),
state AS (
    SELECT
        mdtrt_id,
        max(CASE WHEN (diag_code LIKE 'O%' AND substr(diag_code, 1, 3) > 'O08')
                      OR substr(diag_code, 1, 3) IN ('Z33', 'Z34', 'Z35', 'Z36') THEN 1 ELSE 0 END) AS pregnant,
        max(CASE WHEN substr(diag_code, 1, 5) = 'Z39.1' THEN 1 ELSE 0 END) AS lactating,
        min(CASE WHEN (diag_code LIKE 'O%' AND substr(diag_code, 1, 3) > 'O08')
                      OR substr(diag_code, 1, 3) IN ('Z33', 'Z34', 'Z35', 'Z36') OR substr(diag_code, 1, 5) = 'Z39.1'
                 THEN diag_code END) AS state_code
    FROM vdiag
    GROUP BY mdtrt_id
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS drug_name,
        k.limit_value,
        s.state_code,
        CASE WHEN s.pregnant = 1 THEN '妊娠期' ELSE '哺乳期' END AS state_name,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM lines l
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN state s ON s.mdtrt_id = l.mdtrt_id
    JOIN kmatch km ON km.feedetl_sn = l.feedetl_sn
    JOIN kb k ON k.kp_id = km.kp_id AND k.kp_type = 'drug_pregnancy'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE p.gend = '2' AND l.net_amt > 0
      AND (s.pregnant = 1 OR (s.lactating = 1 AND coalesce(k.limit_value, '') LIKE '%哺乳%'))
)
SELECT
    l.feedetl_sn,
    l.setl_id,
    l.mdtrt_id,
    l.psn_no,
    l.fixmedins_code,
    l.bilg_dr_codg,
    l.med_list_codg,
    l.fee_ocur_time AS occur_time,
    CAST(l.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    l.state_name || '患者（诊断' || l.state_code || '）使用' || coalesce(l.limit_value, '妊娠期禁用') || '药品“' || l.drug_name || '”' AS message,
    l.kp_id,
    '限制=' || coalesce(l.limit_value, '妊娠禁用') || '；依据诊断=' || l.state_code AS detail
FROM hit l
WHERE l.kp_rank = 1
