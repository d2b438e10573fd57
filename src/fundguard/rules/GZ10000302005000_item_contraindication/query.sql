-- 医疗服务项目禁忌症: a service item billed on a visit that carries a diagnosis contraindicating it.
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes and names, and
-- refunds and diagnoses are computed only for the lines and visits that matched.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, related_codg, related_name, begndate, enddate
    FROM kb
    WHERE kp_type = 'item_contraindication' AND coalesce(related_codg, '') <> ''
),
code_kp AS (
    -- billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'item_contraindication' AND pos = 1
      AND kp_id IN (SELECT kp_id FROM ik)
),
name_kp AS (
    -- billed (code, name) pairs of positive lines whose name contains a name-only point (kb_name_kp)
    SELECT DISTINCT med_list_codg, hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'item_contraindication' AND pos = 1 AND med_list_codg IS NOT NULL
      AND kp_id IN (SELECT kp_id FROM ik)
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
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS item,
        d.diag_code,
        coalesce(k.related_name, k.related_codg) AS contra_name,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id, d.diag_code) AS kp_rank
    FROM kmatch m
    JOIN lines l ON l.feedetl_sn = m.feedetl_sn
    JOIN ik k ON k.kp_id = m.kp_id
    JOIN vdiag d ON d.mdtrt_id = l.mdtrt_id AND substr(d.diag_code, 1, length(k.related_codg)) = upper(k.related_codg)
    WHERE (k.begndate IS NULL OR k.begndate <= l.fee_date)
      AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
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
    '患者诊断' || l.diag_code || '（' || l.contra_name || '）为医疗服务项目“' || l.item || '”的禁忌症' AS message,
    l.kp_id,
    '禁忌诊断=' || l.diag_code || '；禁忌类别=' || l.contra_name AS detail
FROM hit l
WHERE l.kp_rank = 1
