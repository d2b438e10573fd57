-- 医用耗材数量超标: a consumable billed on one visit in a larger total quantity than its per-visit maximum;
-- every line of it carries the pro-rated excess.
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
cons_line AS (
    -- consumable lines as two filters DuckDB applies inside the fee scan; netting every line first and testing
    -- `list_type = '301' OR med_chrgitm_type = '08'` after read every column of all lines (performance.md, round 5)
    SELECT * FROM fee WHERE cnt > 0 AND list_type = '301'
    UNION ALL
    SELECT * FROM fee WHERE cnt > 0 AND med_chrgitm_type = '08' AND coalesce(list_type, '') <> '301'
),
pair_kp AS (
    -- the knowledge match (an OR of code, prefix and name) over the distinct billed (code, name) pairs of
    -- consumable lines, joined back on equality (a join of every line with the points would be a nested loop)
    SELECT n.med_list_codg AS code, n.hilist_name AS name, k.kp_id, k.limit_num, k.item_name, k.begndate, k.enddate
    FROM (SELECT DISTINCT med_list_codg, hilist_name FROM cons_line) n
    JOIN kb k ON k.kp_type = 'consumable_max_qty'
        AND k.limit_num IS NOT NULL
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = n.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(n.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND n.hilist_name LIKE '%' || k.item_name || '%')
        )
),
lines AS (
    -- consumable lines net of their refunds (fully refunded lines drop out below); the pairs are joined in `limited`
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM cons_line f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
),
limited AS (
    SELECT
        l.*,
        k.kp_id,
        k.limit_num,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS cons_name,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.limit_num, k.kp_id) AS kp_rank
    FROM lines l
    JOIN pair_kp k ON k.code IS NOT DISTINCT FROM l.med_list_codg AND k.name IS NOT DISTINCT FROM l.hilist_name
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.net_amt > 0
),
per_visit AS (
    SELECT mdtrt_id, kp_id, sum(cnt) AS total_cnt
    FROM limited
    WHERE kp_rank = 1
    GROUP BY mdtrt_id, kp_id
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
    CAST(l.net_amt * (v.total_cnt - l.limit_num) / v.total_cnt AS DECIMAL(16, 2)) AS violation_amount,
    '医用耗材“' || l.cons_name || '”本次就诊共收取' || CAST(CAST(v.total_cnt AS DECIMAL(16, 0)) AS VARCHAR) || '，超过每次就诊上限'
        || CAST(CAST(l.limit_num AS INTEGER) AS VARCHAR) AS message,
    l.kp_id,
    '本次就诊数量=' || CAST(CAST(v.total_cnt AS DECIMAL(16, 2)) AS VARCHAR) || '；上限=' || CAST(l.limit_num AS VARCHAR) AS detail
FROM limited l
JOIN per_visit v ON v.mdtrt_id = l.mdtrt_id AND v.kp_id = l.kp_id
WHERE l.kp_rank = 1 AND v.total_cnt > l.limit_num
