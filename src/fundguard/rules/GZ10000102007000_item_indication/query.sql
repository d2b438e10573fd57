-- 医疗服务项目限适应症: a 医疗服务项目 whose payment is limited to indications that map to ICD-10 prefixes
-- (kb related_codg; the point names the code, or a code prefix for a class), billed on a visit none of whose diagnoses (diag_d, or the discharge main diagnosis) falls
-- under any mapped prefix. Visits without any diagnosis are not judged (the restriction cannot be checked).
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes, and the region
-- condition, refunds and diagnoses are applied only to the lines and visits that matched.
WITH ind AS (
    SELECT kp_id, med_list_codg, code_prefix, related_codg, related_name, description, begndate, enddate, admdvs
    FROM kb
    WHERE kp_type = 'item_indication'
      AND related_codg IS NOT NULL
      AND (med_list_codg IS NOT NULL OR code_prefix IS NOT NULL)
),
ind_m AS (
    -- knowledge × institutions whose region the point applies to (both small): keeps the joins equality joins
    SELECT i.*, m.fixmedins_code
    FROM ind i
    CROSS JOIN medins m
    WHERE coalesce(i.admdvs, '') = '' OR i.admdvs = m.admdvs
        OR (substr(i.admdvs, 5, 2) = '00' AND substr(i.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(i.admdvs, 1, 4))
        OR (substr(i.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(i.admdvs, 1, 2))
),
code_kp AS (
    -- codes of original lines naming a point by code, or by code prefix when the point names no code: the
    -- shared relation kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT m.med_list_codg, i.kp_id
    FROM kb_code_kp m
    JOIN ind i ON i.kp_id = m.kp_id
    WHERE m.kp_type = 'item_indication' AND m.orig = 1 AND (m.match_by = 'code' OR i.med_list_codg IS NULL)
    UNION ALL
    -- a point with an empty code ('' meets only the code '') or, without a code, an empty prefix (meets every
    -- code), as the equality / prefix test did before; kb_code_kp leaves empty keys out, importers store NULL
    SELECT c.med_list_codg, i.kp_id
    FROM (SELECT kp_id, med_list_codg FROM ind WHERE med_list_codg = '' OR (med_list_codg IS NULL AND code_prefix = '')) i
    JOIN (SELECT DISTINCT med_list_codg FROM kb_billed WHERE orig = 1 AND med_list_codg IS NOT NULL) c
        ON i.med_list_codg IS NULL OR c.med_list_codg = ''
),
line_k AS (
    -- original lines of a matched code, only the columns used below (restricted is read three times, so DuckDB
    -- materializes it: every column carried costs at 20M)
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    WHERE f.init_feedetl_sn IS NULL AND f.med_list_codg IN (SELECT med_list_codg FROM code_kp)
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn IN (SELECT feedetl_sn FROM line_k)
    GROUP BY init_feedetl_sn
),
matched AS (
    -- those lines net of their refunds (fully refunded lines drop out), one row per point in force for the institution
    SELECT l.*, l.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, l.amt + coalesce(r.refund_amt, 0) AS net_amt,
        i.kp_id, i.related_codg, i.related_name, i.description, i.begndate, i.enddate
    FROM line_k l
    LEFT JOIN refund r ON r.init_feedetl_sn = l.feedetl_sn
    JOIN code_kp k ON k.med_list_codg = l.med_list_codg
    JOIN ind_m i ON i.kp_id = k.kp_id AND i.fixmedins_code = l.fixmedins_code
    WHERE l.cnt + coalesce(r.refund_cnt, 0) > 0
),
restricted AS (
    SELECT l.*
    FROM matched l
    WHERE (l.begndate IS NULL OR l.begndate <= l.fee_date)
      AND (l.enddate IS NULL OR l.fee_date <= l.enddate)
),
visit_diag AS (
    -- diagnoses of the matched visits only
    SELECT mdtrt_id, diag_code FROM diag WHERE diag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM restricted)
    UNION
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code
    FROM mdtrt
    WHERE dscg_maindiag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM restricted)
),
diag_list AS (
    SELECT mdtrt_id, count(*) AS diag_cnt, min(diag_code) AS first_diag FROM visit_diag GROUP BY mdtrt_id
),
fits AS (
    -- lines with at least one diagnosis under one of the drug/item's indication prefixes
    SELECT DISTINCT r.feedetl_sn
    FROM restricted r
    JOIN visit_diag d
        ON d.mdtrt_id = r.mdtrt_id
        AND substr(d.diag_code, 1, length(r.related_codg)) = r.related_codg
),
unfit AS (
    -- the lines without a fitting diagnosis, each point in force ranked by kp_id; ranked only now, after the line
    -- filters, because the window sorts every row it sees with all its columns (at 20M: 1M rows, 1.6 s)
    SELECT r.*, row_number() OVER (PARTITION BY r.feedetl_sn ORDER BY r.kp_id) AS kp_rank
    FROM restricted r
    LEFT JOIN fits f ON f.feedetl_sn = r.feedetl_sn
    WHERE f.feedetl_sn IS NULL AND r.net_amt > 0
)
SELECT
    r.feedetl_sn,
    r.setl_id,
    r.mdtrt_id,
    r.psn_no,
    r.fixmedins_code,
    r.bilg_dr_codg,
    r.med_list_codg,
    CAST(r.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(r.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '医疗服务项目「' || coalesce(r.hilist_name, r.med_list_codg) || '」限定支付范围：' || coalesce(r.description, r.related_name, '')
        || '；本次就诊诊断均不符合' AS message,
    r.kp_id,
    '限定适应症=' || coalesce(r.related_name, '') || '（ICD-10 ' || r.related_codg || '等）；就诊诊断数=' || CAST(dl.diag_cnt AS VARCHAR)
        || '；诊断示例=' || dl.first_diag AS detail
FROM unfit r
JOIN diag_list dl ON dl.mdtrt_id = r.mdtrt_id
WHERE r.kp_rank = 1
