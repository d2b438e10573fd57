-- 药品超限定病种目录范围使用: on a 门诊慢特病 visit (med_type 14) of a person whose 门诊慢特病 diagnoses (any
-- med_type 14 visit in the data, standing in for the 认定病种) match one or more 病种 of the knowledge
-- (related_codg = ICD-10 prefix, group_name = 病种), a drug of a kind the list covers (same first letter as the
-- 病种's drug prefixes: X 西药, Z 中成药) outside every matched 病种's drug range (code_prefix / code).
-- A line is 门诊慢特病 by its own 医疗类别 (14), by its visit's when it has none (decision 0019).
WITH refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
scope AS (
    SELECT kp_id, med_list_codg, code_prefix, related_codg, group_name, begndate, enddate, admdvs
    FROM kb
    WHERE kp_type = 'chronic_disease_drug'
      AND related_codg IS NOT NULL
      AND (med_list_codg IS NOT NULL OR code_prefix IS NOT NULL)
),
chronic_visit AS (
    SELECT mdtrt_id, dscg_maindiag_code FROM mdtrt WHERE med_type = '14'
),
visit_diag AS (
    -- only the 门诊慢特病 visits' diagnoses (a fifth of all at 20M lines): the DISTINCT below is the costliest step
    SELECT d.mdtrt_id, d.diag_code
    FROM diag d
    WHERE d.diag_code IS NOT NULL AND d.mdtrt_id IN (SELECT mdtrt_id FROM chronic_visit)
    UNION
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code FROM chronic_visit WHERE dscg_maindiag_code IS NOT NULL
),
related_len AS (
    SELECT DISTINCT length(related_codg) AS len FROM scope
),
diag_prefix AS (
    -- each diagnosis cut to every 病种 prefix length that occurs, as a plain column to hash on
    SELECT d.mdtrt_id, p.len, substr(d.diag_code, 1, p.len) AS pfx
    FROM visit_diag d
    CROSS JOIN related_len p
),
visit_scope AS (
    -- the drug ranges of the person's 门诊慢特病 病种
    SELECT DISTINCT v.psn_no, s.kp_id, s.med_list_codg, s.code_prefix, s.group_name, s.begndate, s.enddate, s.admdvs
    FROM mdtrt v
    JOIN diag_prefix d ON d.mdtrt_id = v.mdtrt_id
    JOIN scope s ON s.related_codg = d.pfx AND length(s.related_codg) = d.len
    WHERE v.med_type = '14'
),
visit_kind AS (
    SELECT psn_no, substr(coalesce(med_list_codg, code_prefix), 1, 1) AS kind, min(group_name) AS disease, min(kp_id) AS kp_id
    FROM visit_scope
    GROUP BY psn_no, substr(coalesce(med_list_codg, code_prefix), 1, 1)
),
chronic_line AS (
    -- original drug lines of 门诊慢特病: by the line's own 医疗类别, by its visit's only when it has none (decision
    -- 0019), so no join of every line to its visit
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    WHERE f.init_feedetl_sn IS NULL AND f.list_type IN ('101', '103', '104') AND f.med_type = '14'
    UNION ALL
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    JOIN chronic_visit v ON v.mdtrt_id = f.mdtrt_id
    WHERE f.init_feedetl_sn IS NULL AND f.list_type IN ('101', '103', '104') AND f.med_type IS NULL
),
candidate AS (
    -- of a drug kind the person's 病种 cover; only these are netted
    SELECT l.*, vk.disease, vk.kp_id
    FROM chronic_line l
    JOIN visit_kind vk ON vk.psn_no = l.psn_no AND vk.kind = substr(l.med_list_codg, 1, 1)
),
judged AS (
    -- net of their refunds; fully refunded lines drop out
    SELECT c.*, c.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, c.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM candidate c
    LEFT JOIN refund r ON r.init_feedetl_sn = c.feedetl_sn
    WHERE c.cnt + coalesce(r.refund_cnt, 0) > 0 AND c.amt + coalesce(r.refund_amt, 0) > 0
),
in_scope AS (
    SELECT DISTINCT j.feedetl_sn
    FROM judged j
    JOIN medins m ON m.fixmedins_code = j.fixmedins_code
    JOIN visit_scope s
        ON s.psn_no = j.psn_no
        AND (s.med_list_codg = j.med_list_codg
             OR (s.med_list_codg IS NULL AND substr(j.med_list_codg, 1, length(s.code_prefix)) = s.code_prefix))
        AND (s.begndate IS NULL OR s.begndate <= j.fee_date)
        AND (s.enddate IS NULL OR j.fee_date <= s.enddate)
        AND (coalesce(s.admdvs, '') = '' OR s.admdvs = m.admdvs
            OR (substr(s.admdvs, 5, 2) = '00' AND substr(s.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(s.admdvs, 1, 4))
            OR (substr(s.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(s.admdvs, 1, 2)))
)
SELECT
    j.feedetl_sn,
    j.setl_id,
    j.mdtrt_id,
    j.psn_no,
    j.fixmedins_code,
    j.bilg_dr_codg,
    j.med_list_codg,
    CAST(j.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(j.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '门诊慢特病参保人（病种：' || j.disease || '等）使用药品「' || coalesce(j.hilist_name, j.med_list_codg) || '」，超出病种用药范围' AS message,
    j.kp_id,
    '医疗类别=14 门诊慢特病；认定病种=' || j.disease || '；药品代码=' || j.med_list_codg AS detail
FROM judged j
LEFT JOIN in_scope i ON i.feedetl_sn = j.feedetl_sn
WHERE i.feedetl_sn IS NULL
