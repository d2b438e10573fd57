-- 计费日期与住院时间不符: a fee line of an inpatient visit dated before the admission date or after the
-- discharge date. Refund lines are not findings themselves; they net against the line they reverse.
WITH outside AS (
    -- Speed (20M lines): the inpatient visits whose earliest / latest positive line (shared relation setl_fee) falls
    -- outside the stay; only their lines are read below
    SELECT DISTINCT a.mdtrt_id
    FROM setl_fee a
    JOIN mdtrt m ON m.mdtrt_id = a.mdtrt_id
    WHERE m.is_inpatient
        AND (CAST(a.first_pos_time AS DATE) < m.begndate
            OR (m.enddate IS NOT NULL AND CAST(a.last_pos_time AS DATE) > m.enddate))
),
refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
)
SELECT
    f.feedetl_sn,
    f.setl_id,
    f.mdtrt_id,
    f.psn_no,
    f.fixmedins_code,
    f.bilg_dr_codg,
    f.med_list_codg,
    CAST(f.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(f.amt + coalesce(r.refund_amt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '「' || coalesce(f.hilist_name, f.med_list_codg) || '」计费日期' || CAST(f.fee_date AS VARCHAR)
        || CASE WHEN f.fee_date < m.begndate THEN '早于入院日期' || CAST(m.begndate AS VARCHAR)
            ELSE '晚于出院日期' || CAST(m.enddate AS VARCHAR) END
        || '，计费日期与住院时间不符' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '计费日期=' || CAST(f.fee_date AS VARCHAR) || '；入院日期=' || CAST(m.begndate AS VARCHAR) || '；出院日期='
        || coalesce(CAST(m.enddate AS VARCHAR), '在院') AS detail
FROM outside o
JOIN fee f ON f.mdtrt_id = o.mdtrt_id
JOIN mdtrt m ON m.mdtrt_id = o.mdtrt_id
LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
WHERE m.is_inpatient
    AND f.cnt > 0
    AND f.amt + coalesce(r.refund_amt, 0) > 0
    AND (f.fee_date < m.begndate OR (m.enddate IS NOT NULL AND f.fee_date > m.enddate))
