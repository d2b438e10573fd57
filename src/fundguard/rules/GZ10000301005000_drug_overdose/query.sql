-- 超说明书用量开药: a drug line whose daily quantity (cnt ÷ prd_days, in the billing unit) exceeds the
-- label's maximum daily quantity (kb drug_max_dose.limit_num).
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
lines AS (
    -- original lines net of their refunds (fully refunded lines drop out below)
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt > 0
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS drug_name,
        k.limit_num AS max_daily,
        coalesce(k.limit_unit, '') AS unit,
        l.cnt / l.prd_days AS daily_qty,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.limit_num, k.kp_id) AS kp_rank
    FROM lines l
    JOIN kb k ON k.kp_type = 'drug_max_dose'
        AND k.limit_num IS NOT NULL AND k.limit_num > 0
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.net_amt > 0 AND l.prd_days > 0
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
    CAST(l.net_amt * (l.daily_qty - l.max_daily) / l.daily_qty AS DECIMAL(16, 2)) AS violation_amount,
    '药品“' || l.drug_name || '”日用量' || CAST(CAST(l.daily_qty AS DECIMAL(16, 2)) AS VARCHAR) || l.unit || '，超过说明书最大日用量'
        || CAST(l.max_daily AS VARCHAR) || l.unit AS message,
    l.kp_id,
    '数量=' || CAST(CAST(l.cnt AS DECIMAL(16, 2)) AS VARCHAR) || '；天数=' || CAST(CAST(l.prd_days AS DECIMAL(16, 0)) AS VARCHAR)
        || '；日用量=' || CAST(CAST(l.daily_qty AS DECIMAL(16, 2)) AS VARCHAR) || '；最大日用量=' || CAST(l.max_daily AS VARCHAR) AS detail
FROM hit l
WHERE l.kp_rank = 1 AND l.daily_qty > l.max_daily
