-- 超说明书适应症用药: a drug with labelled indications (kb drug_label_indication) billed on a visit none of
-- whose diagnoses falls under any of them.
-- Knowledge first (docs/performance.md): the points are matched on the distinct billed codes and names, and
-- refunds and diagnoses are computed only for the lines, visits and persons that matched.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix, item_name, related_codg, begndate, enddate
    FROM kb
    WHERE kp_type = 'drug_label_indication' AND coalesce(related_codg, '') <> ''
),
code_kp AS (
    -- billed codes (of positive lines) naming a point by code or by code prefix: the shared relation
    -- kb_code_kp (rules/_shared), filled once per screen for the whole knowledge family
    SELECT DISTINCT med_list_codg, kp_id
    FROM kb_code_kp
    WHERE kp_type = 'drug_label_indication' AND pos = 1
      AND kp_id IN (SELECT kp_id FROM ik)
),
name_kp AS (
    -- billed (code, name) pairs of positive lines whose name contains a name-only point (kb_name_kp)
    SELECT DISTINCT med_list_codg, hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'drug_label_indication' AND pos = 1 AND med_list_codg IS NOT NULL
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
    SELECT l.feedetl_sn, l.mdtrt_id, l.psn_no, l.fee_date, l.med_list_codg, l.hilist_name
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
labelled AS (
    SELECT c.feedetl_sn, c.mdtrt_id, c.psn_no, c.fee_date, k.kp_id, k.related_codg, coalesce(k.item_name, c.hilist_name, c.med_list_codg) AS drug_name
    FROM kmatch m
    JOIN cand c ON c.feedetl_sn = m.feedetl_sn
    JOIN ik k ON k.kp_id = m.kp_id
    WHERE (k.begndate IS NULL OR k.begndate <= c.fee_date)
      AND (k.enddate IS NULL OR c.fee_date <= k.enddate)
),
pvisit AS (
    -- visits of the persons concerned (their history counts too)
    SELECT mdtrt_id, psn_no, begndate, dscg_maindiag_code FROM mdtrt WHERE psn_no IN (SELECT psn_no FROM labelled)
),
related_len AS (
    SELECT DISTINCT length(related_codg) AS len FROM ik
),
pdiag AS (
    -- each diagnosis cut to every indication length, so that the prefix test is part of the hash key
    SELECT m.psn_no, v.mdtrt_id, m.begndate, p.len, substr(v.diag_code, 1, p.len) AS dx_pfx
    FROM (
        SELECT mdtrt_id, upper(diag_code) AS diag_code
        FROM diag
        WHERE diag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM pvisit)
        UNION
        SELECT mdtrt_id, upper(dscg_maindiag_code) AS diag_code FROM pvisit WHERE dscg_maindiag_code IS NOT NULL
    ) v
    JOIN pvisit m ON m.mdtrt_id = v.mdtrt_id
    CROSS JOIN related_len p
),
covered AS (
    -- an indication diagnosed on this visit, or on any visit of the person within history_days before
    SELECT DISTINCT b.feedetl_sn
    FROM labelled b
    JOIN pdiag d
        ON d.psn_no = b.psn_no AND d.dx_pfx = upper(b.related_codg) AND d.len = length(b.related_codg)
    WHERE d.mdtrt_id = b.mdtrt_id OR (d.begndate <= b.fee_date AND date_diff('day', d.begndate, b.fee_date) <= ${history_days})
),
visit_dx AS (
    SELECT mdtrt_id, count(*) AS n_dx, min(diag_code) AS a_dx
    FROM (
        SELECT mdtrt_id, upper(diag_code) AS diag_code
        FROM diag
        WHERE diag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM labelled)
        UNION
        SELECT mdtrt_id, upper(dscg_maindiag_code) AS diag_code
        FROM mdtrt
        WHERE dscg_maindiag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM labelled)
    ) v
    GROUP BY mdtrt_id
),
hit AS (
    SELECT b.feedetl_sn, min(b.kp_id) AS kp_id, min(b.drug_name) AS drug_name, count(DISTINCT b.related_codg) AS n_ind
    FROM labelled b
    LEFT JOIN covered c ON c.feedetl_sn = b.feedetl_sn
    WHERE c.feedetl_sn IS NULL
    GROUP BY b.feedetl_sn
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
    '药品“' || h.drug_name || '”的说明书适应症（' || CAST(h.n_ind AS VARCHAR) || '类）均不在本次就诊诊断中（诊断'
        || coalesce(v.a_dx, '缺失') || '），疑似超说明书适应症用药' AS message,
    h.kp_id,
    'level=line；说明书适应症数=' || CAST(h.n_ind AS VARCHAR) || '；就诊诊断数=' || CAST(coalesce(v.n_dx, 0) AS VARCHAR) AS detail
FROM hit h
JOIN lines l ON l.feedetl_sn = h.feedetl_sn
LEFT JOIN visit_dx v ON v.mdtrt_id = l.mdtrt_id
