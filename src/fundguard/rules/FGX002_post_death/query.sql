-- 死亡后就医: a settlement dated after the person's registered date of death.
WITH refunded AS (
    SELECT DISTINCT init_setl_id
    FROM setl
    WHERE refd_setl_flag = '1' AND init_setl_id IS NOT NULL
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    s.setl_id,
    s.mdtrt_id,
    s.psn_no,
    s.fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(s.setl_time AS TIMESTAMP) AS occur_time,
    CAST(coalesce(s.fund_pay_sumamt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '参保人已于' || CAST(p.die_date AS VARCHAR) || '死亡，' || CAST(CAST(s.setl_time AS DATE) AS VARCHAR)
        || '仍发生医保结算（死亡后' || CAST(date_diff('day', p.die_date, CAST(s.setl_time AS DATE)) AS VARCHAR)
        || '天）' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '死亡日期=' || CAST(p.die_date AS VARCHAR) || '；结算时间=' || CAST(s.setl_time AS VARCHAR) || '；就诊开始日期='
        || coalesce(CAST(m.begndate AS VARCHAR), '') || '；医疗类别=' || coalesce(s.med_type, '') AS detail
FROM setl s
JOIN psn p ON p.psn_no = s.psn_no
LEFT JOIN mdtrt m ON m.mdtrt_id = s.mdtrt_id
LEFT JOIN refunded r ON r.init_setl_id = s.setl_id
WHERE p.die_date IS NOT NULL
  AND s.refd_setl_flag = '0'
  AND r.init_setl_id IS NULL
  AND CAST(s.setl_time AS DATE) > p.die_date
  -- a stay that began before death and was settled afterwards is a normal discharge-by-death settlement
  AND NOT (coalesce(m.is_inpatient, FALSE) AND m.begndate <= p.die_date)
