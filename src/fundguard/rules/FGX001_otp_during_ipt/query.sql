-- 住院期间门诊/药店结算: an outpatient or pharmacy settlement strictly inside an inpatient stay of the same person.
WITH refunded AS (
    SELECT DISTINCT init_setl_id
    FROM setl
    WHERE refd_setl_flag = '1' AND init_setl_id IS NOT NULL
),
stay AS (
    SELECT mdtrt_id, psn_no, fixmedins_code, begntime, endtime, begndate, enddate, inhosp_stas
    FROM mdtrt
    WHERE is_inpatient AND begndate IS NOT NULL
),
otp AS (
    -- valid outpatient/pharmacy settlements that were not reversed later, of persons with an inpatient stay (at 20M
    -- lines 823k of 5.6M settlements). Outpatient by the settlement's own 医疗类别, by its visit's only when it has
    -- none (decision 0019)
    SELECT s.*, CAST(s.setl_time AS DATE) AS setl_date, s.med_type AS visit_med_type
    FROM setl s
    LEFT JOIN refunded r ON r.init_setl_id = s.setl_id
    WHERE s.refd_setl_flag = '0'
      AND s.med_type IS NOT NULL
      AND NOT s.setl_is_inpatient
      AND r.init_setl_id IS NULL
      AND s.psn_no IN (SELECT psn_no FROM stay)
    UNION ALL
    SELECT s.*, CAST(s.setl_time AS DATE) AS setl_date, m.med_type AS visit_med_type
    FROM setl s
    JOIN mdtrt m ON m.mdtrt_id = s.mdtrt_id
    LEFT JOIN refunded r ON r.init_setl_id = s.setl_id
    WHERE s.refd_setl_flag = '0'
      AND s.med_type IS NULL
      AND NOT m.is_inpatient
      AND r.init_setl_id IS NULL
      AND s.psn_no IN (SELECT psn_no FROM stay)
),
hit AS (
    SELECT
        o.setl_id,
        o.mdtrt_id,
        o.psn_no,
        o.fixmedins_code,
        o.setl_time,
        o.fund_pay_sumamt,
        o.visit_med_type,
        st.mdtrt_id AS ipt_mdtrt_id,
        st.fixmedins_code AS ipt_fixmedins_code,
        st.begndate AS ipt_begndate,
        st.enddate AS ipt_enddate,
        row_number() OVER (PARTITION BY o.setl_id ORDER BY st.begntime, st.mdtrt_id) AS rn
    FROM otp o
    JOIN stay st
        ON st.psn_no = o.psn_no
        AND st.mdtrt_id <> o.mdtrt_id
        AND o.setl_date > st.begndate
        AND (o.setl_date < st.enddate OR (st.enddate IS NULL AND coalesce(st.inhosp_stas, '1') = '1'))
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
    CAST(coalesce(fund_pay_sumamt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '参保人住院期间（' || CAST(ipt_begndate AS VARCHAR) || '入院，'
        || coalesce(CAST(ipt_enddate AS VARCHAR) || '出院', '尚未出院') || '，住院机构' || ipt_fixmedins_code
        || '）发生' || CASE WHEN visit_med_type = '41' THEN '定点药店购药' ELSE '门诊' END || '结算' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '住院就诊ID=' || ipt_mdtrt_id || '；住院机构=' || ipt_fixmedins_code || '；入院日期=' || CAST(ipt_begndate AS VARCHAR)
        || '；出院日期=' || coalesce(CAST(ipt_enddate AS VARCHAR), '未出院') || '；结算时间='
        || CAST(setl_time AS VARCHAR) || '；医疗类别=' || coalesce(visit_med_type, '') AS detail
FROM hit
WHERE rn = 1
