-- 就诊数据非实时上传: the data carry no upload timestamp, so timeliness is judged from what they hold:
-- fee lines dated after the settlement that paid them (recorded after the fact), and, for outpatient and
-- pharmacy settlements, lines issued more than ${otp_max_lag_hours} hours before settlement (batch upload).
-- One finding per settlement.
WITH late AS (
    -- Speed (20M lines): the settlements that can have a late or lagging line are found on the shared relation
    -- setl_fee (positive lines' earliest / latest time per settlement and visit; both minute differences are
    -- monotone in the fee time, so the extremes decide); only their lines are read below.
    SELECT a.setl_id, a.mdtrt_id, date_diff('minute', s.setl_time, a.last_pos_time) > ${grace_minutes} AS any_after
    FROM setl_fee a JOIN setl s ON s.setl_id = a.setl_id
    WHERE coalesce(s.refd_setl_flag, '0') <> '1'
        AND (date_diff('minute', s.setl_time, a.last_pos_time) > ${grace_minutes}
            OR date_diff('minute', a.first_pos_time, s.setl_time) > ${otp_max_lag_hours} * 60)
),
candidate AS (
    SELECT DISTINCT l.setl_id
    FROM late l
    LEFT JOIN mdtrt m ON m.mdtrt_id = l.mdtrt_id
    WHERE l.any_after OR NOT coalesce(m.is_inpatient, FALSE)
),
lines AS (
    SELECT
        s.setl_id,
        s.mdtrt_id,
        s.psn_no,
        s.fixmedins_code,
        s.setl_time,
        f.feedetl_sn,
        f.fee_ocur_time,
        m.is_inpatient,
        CASE WHEN date_diff('minute', s.setl_time, f.fee_ocur_time) > ${grace_minutes} THEN 1 ELSE 0 END AS after_setl,
        CASE
            WHEN NOT coalesce(m.is_inpatient, FALSE)
                AND date_diff('minute', f.fee_ocur_time, s.setl_time) > ${otp_max_lag_hours} * 60
                THEN 1
            ELSE 0
        END AS lagging
    FROM candidate c
    JOIN fee f ON f.setl_id = c.setl_id
    JOIN setl s ON s.setl_id = c.setl_id
    LEFT JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
    WHERE f.cnt > 0 AND coalesce(s.refd_setl_flag, '0') <> '1' AND f.fee_ocur_time IS NOT NULL
),
per_setl AS (
    SELECT
        setl_id,
        min(mdtrt_id) AS mdtrt_id,
        min(psn_no) AS psn_no,
        min(fixmedins_code) AS fixmedins_code,
        min(setl_time) AS setl_time,
        count(*) AS n_lines,
        sum(after_setl) AS n_after,
        sum(lagging) AS n_lagging,
        max(fee_ocur_time) AS last_fee_time,
        min(fee_ocur_time) AS first_fee_time
    FROM lines
    GROUP BY setl_id
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
    CAST(0 AS DECIMAL(16, 2)) AS violation_amount,
    '结算' || setl_id || '的' || CAST(n_lines AS VARCHAR) || '条费用明细中，'
        || CASE WHEN n_after > 0 THEN CAST(n_after AS VARCHAR) || '条费用发生时间晚于结算时间' ELSE '' END
        || CASE WHEN n_after > 0 AND n_lagging > 0 THEN '，' ELSE '' END
        || CASE WHEN n_lagging > 0 THEN CAST(n_lagging AS VARCHAR) || '条早于结算超过'
            || CAST(${otp_max_lag_hours} AS VARCHAR) || '小时' ELSE '' END
        || '，疑似就诊数据非实时上传' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '结算时间=' || CAST(setl_time AS VARCHAR) || '；最早费用时间=' || CAST(first_fee_time AS VARCHAR)
        || '；最晚费用时间=' || CAST(last_fee_time AS VARCHAR) || '；晚于结算明细数=' || CAST(n_after AS VARCHAR)
        || '；滞后明细数=' || CAST(n_lagging AS VARCHAR) AS detail
FROM per_setl
WHERE n_after > 0 OR n_lagging > 0
