-- 医疗服务项目限定频次: more than limit_num units of an item per day (日/天/小时 points, e.g. 24 小时 of
-- monitoring a day) or per visit (次/次住院 points) within one visit. Units are counted in billing order; the
-- line that crosses the limit is pro-rated, the lines after it count in full.
-- Speed (20M lines): only lines of an item with a frequency point are netted and joined (semi-join on the codes).
WITH freq_codes AS (
    SELECT DISTINCT med_list_codg
    FROM kb
    WHERE kp_type = 'item_frequency' AND limit_num IS NOT NULL AND coalesce(window_days, 1) <= 1
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
line AS (
    -- original lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    JOIN freq_codes fc ON fc.med_list_codg = f.med_list_codg
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.init_feedetl_sn IS NULL
      AND f.cnt + coalesce(r.refund_cnt, 0) > 0
),
win AS (
    -- the point in force depends only on (item, institution, day): ranked once per combination, not per line
    SELECT
        c.med_list_codg,
        c.fixmedins_code,
        c.day_key,
        k.kp_id,
        k.item_name,
        k.limit_num,
        coalesce(k.limit_unit, '日') AS limit_unit,
        CASE WHEN k.limit_unit LIKE '%次%' OR k.limit_unit LIKE '%住院%' THEN 'visit' ELSE 'day' END AS scope,
        row_number() OVER (PARTITION BY c.med_list_codg, c.fixmedins_code, c.day_key ORDER BY k.kp_id) AS kp_rank
    FROM (
        SELECT DISTINCT med_list_codg, fixmedins_code, fee_date, coalesce(fee_date, DATE '0001-01-01') AS day_key
        FROM fee
        WHERE init_feedetl_sn IS NULL AND med_list_codg IN (SELECT med_list_codg FROM freq_codes)
    ) c
    JOIN medins m ON m.fixmedins_code = c.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = c.med_list_codg
        AND k.kp_type = 'item_frequency'
        AND k.limit_num IS NOT NULL
        AND coalesce(k.window_days, 1) <= 1
        AND (k.begndate IS NULL OR k.begndate <= c.fee_date)
        AND (k.enddate IS NULL OR c.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
freq AS (
    SELECT l.*, w.kp_id, w.item_name, w.limit_num, w.limit_unit, w.scope
    FROM line l
    JOIN win w
        ON w.med_list_codg = l.med_list_codg
        AND w.fixmedins_code = l.fixmedins_code
        AND w.day_key = coalesce(l.fee_date, DATE '0001-01-01')
        AND w.kp_rank = 1
),
busy AS (
    -- a line can cross its limit only in a count whose total exceeds the smallest limit in it: the running sum
    -- below runs only over those counts (it sorted every line of every frequency-limited item: 1 s at 20M lines)
    SELECT mdtrt_id, med_list_codg, CASE WHEN scope = 'day' THEN fee_date END AS part_day
    FROM freq
    GROUP BY mdtrt_id, med_list_codg, CASE WHEN scope = 'day' THEN fee_date END
    HAVING sum(net_cnt) > min(limit_num)
),
cum AS (
    SELECT
        f.*,
        sum(net_cnt) OVER (
            PARTITION BY f.mdtrt_id, f.med_list_codg, CASE WHEN scope = 'day' THEN fee_date END
            ORDER BY fee_ocur_time, feedetl_sn
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS cum_cnt
    FROM freq f
    JOIN busy b
        ON b.mdtrt_id = f.mdtrt_id
        AND b.med_list_codg = f.med_list_codg
        AND b.part_day IS NOT DISTINCT FROM CASE WHEN f.scope = 'day' THEN f.fee_date END
),
over_limit AS (
    SELECT c.*, least(net_cnt, cum_cnt - limit_num) AS excess_cnt
    FROM cum c
    WHERE cum_cnt > limit_num
)
SELECT
    feedetl_sn,
    setl_id,
    mdtrt_id,
    psn_no,
    fixmedins_code,
    bilg_dr_codg,
    med_list_codg,
    CAST(fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(net_amt * excess_cnt / net_cnt AS DECIMAL(16, 2)) AS violation_amount,
    '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限定每' || CASE WHEN scope = 'day' THEN '日' ELSE '次就诊' END
        || CAST(CAST(limit_num AS INTEGER) AS VARCHAR) || limit_unit || '，累计已达' || CAST(CAST(cum_cnt AS DECIMAL(16, 2)) AS VARCHAR) || '，超出' || CAST(CAST(excess_cnt AS DECIMAL(16, 2)) AS VARCHAR) AS message,
    kp_id,
    '限定数量=' || CAST(CAST(limit_num AS INTEGER) AS VARCHAR) || '；数量单位=' || limit_unit || '；计数范围=' || CASE WHEN scope = 'day' THEN '同一就诊同一日' ELSE '同一就诊' END
        || '；累计数量=' || CAST(CAST(cum_cnt AS DECIMAL(16, 2)) AS VARCHAR) || '；本明细超出数量=' || CAST(CAST(excess_cnt AS DECIMAL(16, 2)) AS VARCHAR) AS detail
FROM over_limit
