-- DRG高套分组: an MCC/CC DRG without a qualifying secondary diagnosis, or without cost to support it.
WITH refunded AS (
    SELECT DISTINCT init_setl_id FROM setl WHERE refd_setl_flag = '1' AND init_setl_id IS NOT NULL
),
drg_setl AS (
    SELECT
        s.setl_id, s.mdtrt_id, s.psn_no, s.fixmedins_code, s.setl_time, s.medfee_sumamt, s.hifp_pay, s.insutype,
        upper(s.drg_code) AS drg_code,
        substr(upper(s.drg_code), 1, 3) AS adrg,
        substr(s.drg_code, 4, 1) AS sev
    FROM setl s
    LEFT JOIN refunded r ON r.init_setl_id = s.setl_id
    WHERE s.refd_setl_flag = '0' AND r.init_setl_id IS NULL AND s.drg_code IS NOT NULL AND length(s.drg_code) = 4
),
main_diag AS (
    -- only the visits of DRG settlements are judged (grouping every visit's diagnoses cost 1.6 s at 20M lines)
    SELECT mdtrt_id, min(upper(diag_code)) AS main_code
    FROM (
        SELECT mdtrt_id, diag_code FROM diag WHERE maindiag_flag = '1'
        UNION ALL
        SELECT mdtrt_id, dscg_maindiag_code AS diag_code FROM mdtrt WHERE dscg_maindiag_code IS NOT NULL
    ) u
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM drg_setl)
    GROUP BY mdtrt_id
),
qualifying AS (
    -- secondary diagnoses that are CC/MCC and not excluded by the main diagnosis
    SELECT
        d.mdtrt_id,
        max(CASE WHEN k.limit_value = 'MCC' THEN 1 ELSE 0 END) AS has_mcc,
        max(1) AS has_cc_or_mcc,
        min(d.diag_code) AS cc_code
    FROM diag d
    JOIN kb k ON k.kp_type = 'drg_cc' AND upper(k.med_list_codg) = upper(d.diag_code)
    LEFT JOIN main_diag md ON md.mdtrt_id = d.mdtrt_id
    LEFT JOIN kb x
        ON x.kp_type = 'drg_cc_exclusion'
        AND upper(x.med_list_codg) = md.main_code
        AND x.group_name = k.group_name
    WHERE coalesce(d.maindiag_flag, '0') <> '1'
      AND d.mdtrt_id IN (SELECT mdtrt_id FROM drg_setl)
      AND upper(d.diag_code) <> coalesce(md.main_code, '')
      AND x.kp_id IS NULL
    GROUP BY d.mdtrt_id
),
peer AS (
    SELECT adrg, avg(medfee_sumamt) AS avg_fee5, count(*) AS n5
    FROM drg_setl
    WHERE sev = '5'
    GROUP BY adrg
),
weight AS (
    SELECT upper(med_list_codg) AS drg_code, max(limit_num) AS rw
    FROM kb
    WHERE kp_type = 'drg_group' AND limit_num IS NOT NULL
    GROUP BY upper(med_list_codg)
),
judged AS (
    SELECT
        s.*,
        q.cc_code,
        coalesce(q.has_mcc, 0) AS has_mcc,
        coalesce(q.has_cc_or_mcc, 0) AS has_cc,
        p.avg_fee5,
        p.n5,
        CASE
            WHEN s.sev = '1' AND coalesce(q.has_mcc, 0) = 0 THEN 'A'
            WHEN s.sev = '3' AND coalesce(q.has_cc_or_mcc, 0) = 0 THEN 'A'
            WHEN p.n5 >= ${min_peer_cases} AND s.medfee_sumamt <= p.avg_fee5 * ${cost_ratio} THEN 'B'
        END AS reason,
        w.rw AS rw_cur,
        w5.rw AS rw_base
    FROM drg_setl s
    LEFT JOIN qualifying q ON q.mdtrt_id = s.mdtrt_id
    LEFT JOIN peer p ON p.adrg = s.adrg
    LEFT JOIN weight w ON w.drg_code = s.drg_code
    LEFT JOIN weight w5 ON w5.drg_code = s.adrg || '5'
    WHERE s.sev IN ('1', '3')
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    setl_id,
    mdtrt_id,
    psn_no,
    fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(setl_time AS TIMESTAMP) AS occur_time,
    CAST(
        CASE WHEN rw_cur IS NOT NULL AND rw_base IS NOT NULL AND rw_cur > rw_base
             THEN (rw_cur - rw_base)
                 * CASE WHEN insutype IN ('310', '320', '330', '340') THEN ${drg_rate_emp} ELSE ${drg_rate_res} END
             ELSE 0 END
        AS DECIMAL(16, 2)
    ) AS violation_amount,
    CASE reason
        WHEN 'A' THEN '按' || drg_code || '（' || CASE sev WHEN '1' THEN '伴严重并发症/合并症' ELSE '伴并发症/合并症' END
            || '）结算，但次要诊断中无符合 CHS-DRG 表的' || CASE sev WHEN '1' THEN 'MCC' ELSE 'CC/MCC' END || '，疑似高套分组'
        ELSE '按' || drg_code || '结算，次要诊断' || cc_code || '未见费用支撑（医疗费' || CAST(CAST(medfee_sumamt AS DECIMAL(16, 2)) AS VARCHAR)
            || '元，不高于' || adrg || '5组均次' || CAST(CAST(avg_fee5 AS DECIMAL(16, 2)) AS VARCHAR) || '元），疑似高套分组'
    END AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    'level=settlement；DRG=' || drg_code || '；判定依据=' || CASE reason WHEN 'A' THEN '无合格CC/MCC次要诊断' ELSE '费用无支撑' END
        || '；合格CC/MCC诊断=' || coalesce(cc_code, '无') || '；不伴并发症组均次费用=' || coalesce(CAST(CAST(avg_fee5 AS DECIMAL(16, 2)) AS VARCHAR), '无')
        || '；本组权重=' || coalesce(CAST(rw_cur AS VARCHAR), '未知') || '；基准组权重=' || coalesce(CAST(rw_base AS VARCHAR), '未知') AS detail
FROM judged
WHERE reason IS NOT NULL
