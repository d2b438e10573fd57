-- 中药饮片超量上传: a herb line whose daily quantity (cnt ÷ prd_days, grams per day) exceeds the 药典 maximum.
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
herb_line AS (
    -- herb lines as two filters DuckDB applies inside the fee scan; netting every line first and testing
    -- `list_type = '102' OR med_chrgitm_type = '10'` after read every column of all lines (performance.md, round 5)
    SELECT * FROM fee WHERE cnt > 0 AND list_type = '102'
    UNION ALL
    SELECT * FROM fee WHERE cnt > 0 AND med_chrgitm_type = '10' AND coalesce(list_type, '') <> '102'
),
pair_kp AS (
    -- the knowledge match (an OR of code and name) over the distinct billed (code, name) pairs of herb lines,
    -- joined back to the lines on equality (a join of every line with the points would be a nested loop)
    SELECT n.med_list_codg AS code, n.hilist_name AS name, k.kp_id, k.item_name, k.limit_num, k.description,
        k.begndate, k.enddate
    FROM (SELECT DISTINCT med_list_codg, hilist_name FROM herb_line) n
    JOIN kb k ON k.kp_type = 'tcm_max_dose'
        AND k.limit_num IS NOT NULL
        AND ((coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = n.med_list_codg)
             OR (coalesce(k.med_list_codg, '') = '' AND n.hilist_name LIKE '%' || k.item_name || '%'))
),
lines AS (
    -- herb lines net of their refunds (fully refunded lines drop out below); the pairs are joined in `hit`
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM herb_line f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.prd_days > 0
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name AS herb_name,
        k.limit_num AS max_daily,
        k.description AS dose_text,
        l.cnt / l.prd_days AS daily_qty,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.limit_num, k.kp_id) AS kp_rank
    FROM lines l
    JOIN pair_kp k ON k.code IS NOT DISTINCT FROM l.med_list_codg AND k.name IS NOT DISTINCT FROM l.hilist_name
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.net_amt > 0
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
    '饮片“' || coalesce(l.hilist_name, l.herb_name) || '”日用量' || CAST(CAST(l.daily_qty AS DECIMAL(16, 2)) AS VARCHAR) || '克，超过'
        || CAST(l.max_daily AS VARCHAR) || '克/日' || coalesce('（' || l.dose_text || '）', '') AS message,
    l.kp_id,
    '总量=' || CAST(CAST(l.cnt AS DECIMAL(16, 2)) AS VARCHAR) || '克；天数=' || CAST(CAST(l.prd_days AS DECIMAL(16, 0)) AS VARCHAR)
        || '；日用量=' || CAST(CAST(l.daily_qty AS DECIMAL(16, 2)) AS VARCHAR) || '克；上限=' || CAST(l.max_daily AS VARCHAR) || '克/日' AS detail
FROM hit l
WHERE l.kp_rank = 1 AND l.daily_qty > l.max_daily
