-- 冒名就医: a visit whose diagnoses or items contradict the card holder's gender while the holder
-- has another visit at a different institution on overlapping dates.
WITH visit_diag AS (
    SELECT mdtrt_id, diag_code FROM diag WHERE diag_code IS NOT NULL
    UNION ALL
    SELECT mdtrt_id, dscg_maindiag_code AS diag_code FROM mdtrt WHERE dscg_maindiag_code IS NOT NULL
),
gk AS (
    -- match keys of a gender-limited diagnosis point: its exact code (length -1) and its prefix, upper-cased
    SELECT kp_id, limit_value, upper(med_list_codg) AS mkey, -1 AS mlen
    FROM kb
    WHERE kp_type = 'diag_gender' AND med_list_codg IS NOT NULL
    UNION ALL
    SELECT kp_id, limit_value, upper(code_prefix) AS mkey, length(code_prefix) AS mlen
    FROM kb
    WHERE kp_type = 'diag_gender' AND code_prefix IS NOT NULL AND code_prefix <> ''
),
match_len AS (
    SELECT DISTINCT mlen AS len FROM gk
),
-- Speed (20M lines): diagnoses are cut to the key lengths and hash-joined (no loop over diagnoses x points); the
-- visit, person, other-visit and payment lookups run only for the contradicting visits.
code_kp AS (
    -- the distinct diagnosis codes (thousands, where the diagnoses are millions) cut to the key lengths and matched
    SELECT c.diag_code, k.limit_value, k.kp_id
    FROM (
        SELECT d.diag_code, l.len,
            CASE WHEN l.len = -1 THEN upper(d.diag_code) ELSE substr(upper(d.diag_code), 1, l.len) END AS mkey
        FROM (SELECT DISTINCT diag_code FROM visit_diag) d CROSS JOIN match_len l
    ) c
    JOIN gk k ON k.mkey = c.mkey AND k.mlen = c.len
),
contra AS (
    -- gender-limited diagnoses on the visit: the holder is the visit's person
    SELECT d.mdtrt_id, m.psn_no, d.diag_code AS code, '诊断' AS what, k.limit_value, k.kp_id
    FROM visit_diag d
    JOIN code_kp k ON k.diag_code = d.diag_code
    JOIN mdtrt m ON m.mdtrt_id = d.mdtrt_id
    UNION ALL
    -- gender-limited service items, drugs and consumables billed on the visit (not refunded lines): the holder is
    -- the person the line was charged to (its own psn_no, the visit's in consistent data; decision 0019), so the
    -- gender test needs no join of the lines to their visits
    SELECT f.mdtrt_id, f.psn_no, f.med_list_codg AS code,
        CASE k.kp_type WHEN 'item_gender' THEN '医疗服务项目' WHEN 'drug_gender' THEN '药品' ELSE '医用耗材' END AS what,
        k.limit_value, k.kp_id
    FROM fee f
    JOIN kb k
        ON k.kp_type IN ('item_gender', 'drug_gender', 'consumable_gender')
        AND k.med_list_codg = f.med_list_codg
    WHERE f.cnt > 0
),
contra_holder AS (
    -- those contradicting the holder's gender
    SELECT c.*, p.gend
    FROM contra c
    JOIN psn p ON p.psn_no = c.psn_no
    WHERE p.gend IN ('1', '2') AND c.limit_value = CASE p.gend WHEN '1' THEN '女' ELSE '男' END
),
suspect AS (
    SELECT
        m.mdtrt_id, c.psn_no, m.fixmedins_code, m.begntime, m.begndate, coalesce(m.enddate, m.begndate) AS end_date, c.gend,
        c.code,
        c.what,
        c.limit_value,
        c.kp_id,
        row_number() OVER (PARTITION BY m.mdtrt_id ORDER BY c.what, c.code, c.kp_id) AS rn
    FROM contra_holder c
    JOIN mdtrt m ON m.mdtrt_id = c.mdtrt_id
    WHERE m.begndate IS NOT NULL
),
elsewhere AS (
    -- the holder's visits at another institution on overlapping dates
    SELECT
        s.mdtrt_id,
        count(DISTINCT o.mdtrt_id) AS other_visits,
        min(o.mdtrt_id) AS other_mdtrt_id,
        min(o.fixmedins_code) AS other_fixmedins_code,
        min(o.begntime) AS other_begntime
    FROM suspect s
    JOIN mdtrt o
        ON o.psn_no = s.psn_no
        AND o.mdtrt_id <> s.mdtrt_id
        AND o.fixmedins_code <> s.fixmedins_code
        AND o.begndate <= s.end_date
        AND coalesce(o.enddate, o.begndate) >= s.begndate
    WHERE s.rn = 1
    GROUP BY s.mdtrt_id
),
visit_pay AS (
    SELECT mdtrt_id, sum(fund_pay_sumamt) AS fund_pay, min(setl_id) AS setl_id
    FROM setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM elsewhere)
    GROUP BY mdtrt_id
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    vp.setl_id,
    s.mdtrt_id,
    s.psn_no,
    s.fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(s.begntime AS TIMESTAMP) AS occur_time,
    CAST(coalesce(vp.fund_pay, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '本次就诊' || s.what || s.code || '限' || s.limit_value || '性，持卡参保人为' || CASE s.gend WHEN '1' THEN '男' ELSE '女' END
        || '性，且同期在' || e.other_fixmedins_code || '另有就诊，疑似冒用医保凭证就医' AS message,
    s.kp_id,
    '矛盾依据=' || s.what || s.code || '（限' || s.limit_value || '）；持卡人性别=' || CASE s.gend WHEN '1' THEN '男' ELSE '女' END
        || '；同期异地就诊=' || e.other_mdtrt_id || '@' || e.other_fixmedins_code || '（' || CAST(e.other_begntime AS VARCHAR)
        || '）；同期异地就诊数=' || CAST(e.other_visits AS VARCHAR) AS detail
FROM suspect s
JOIN elsewhere e ON e.mdtrt_id = s.mdtrt_id
LEFT JOIN visit_pay vp ON vp.mdtrt_id = s.mdtrt_id
WHERE s.rn = 1
