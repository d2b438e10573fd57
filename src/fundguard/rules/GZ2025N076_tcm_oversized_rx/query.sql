-- 中药饮片超大处方: one herbal prescription (same visit, same order number or, without one, same day) with
-- more distinct herbs than the limit (kb tcm_max_herbs in force for the region, else the parameter).
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
herb AS (
    -- original herb lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt, coalesce(f.drord_no, CAST(f.fee_date AS VARCHAR)) AS rx_key
    FROM herb_line f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.amt + coalesce(r.refund_amt, 0) > 0
),
kb_limit AS (
    SELECT min(limit_num) AS limit_num, min(kp_id) AS kp_id
    FROM kb
    WHERE kp_type = 'tcm_max_herbs' AND limit_num IS NOT NULL AND coalesce(med_list_codg, '') = ''
),
rx AS (
    SELECT mdtrt_id, rx_key, count(DISTINCT med_list_codg) AS n_herbs
    FROM herb
    GROUP BY mdtrt_id, rx_key
),
over AS (
    SELECT r.*, coalesce(k.limit_num, ${max_herbs}) AS max_herbs, k.kp_id
    FROM rx r
    LEFT JOIN kb_limit k ON 1 = 1
    WHERE r.n_herbs > coalesce(k.limit_num, ${max_herbs})
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
    CAST(l.net_amt * (o.n_herbs - o.max_herbs) / o.n_herbs AS DECIMAL(16, 2)) AS violation_amount,
    '中药饮片处方共' || CAST(o.n_herbs AS VARCHAR) || '味，超过' || CAST(CAST(o.max_herbs AS INTEGER) AS VARCHAR)
        || '味的上限，属超大处方' AS message,
    o.kp_id,
    '处方=' || l.mdtrt_id || '/' || l.rx_key || '；饮片味数=' || CAST(o.n_herbs AS VARCHAR) || '；上限='
        || CAST(CAST(o.max_herbs AS INTEGER) AS VARCHAR) AS detail
FROM herb l
JOIN over o ON o.mdtrt_id = l.mdtrt_id AND o.rx_key = l.rx_key
