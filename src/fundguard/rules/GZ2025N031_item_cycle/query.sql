-- 医疗服务项目周期超频次: "window_days 天内不超过 limit_num 次" per person and item, across visits and
-- institutions. A line whose window (its own date and the window_days - 1 days before) holds more than limit_num
-- units is over the limit: the crossing line pro-rated, later lines in full.
WITH refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
line AS (
    -- original lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.init_feedetl_sn IS NULL
      AND f.cnt + coalesce(r.refund_cnt, 0) > 0
),
cyc AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.limit_num,
        k.window_days,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'item_cycle'
        AND k.limit_num IS NOT NULL
        AND k.window_days IS NOT NULL
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
pts AS (
    SELECT * FROM cyc WHERE kp_rank = 1
),
win AS (
    -- units billed to the person in the window up to and including this line
    SELECT a.feedetl_sn, sum(b.net_cnt) AS window_cnt, min(b.fee_date) AS window_first
    FROM pts a
    JOIN pts b
        ON b.psn_no = a.psn_no
        AND b.med_list_codg = a.med_list_codg
        AND b.fee_date <= a.fee_date
        AND date_diff('day', b.fee_date, a.fee_date) < a.window_days
        AND (b.fee_ocur_time < a.fee_ocur_time OR (b.fee_ocur_time = a.fee_ocur_time AND b.feedetl_sn <= a.feedetl_sn))
    GROUP BY a.feedetl_sn
),
over_limit AS (
    SELECT p.*, w.window_cnt, w.window_first, least(p.net_cnt, w.window_cnt - p.limit_num) AS excess_cnt
    FROM pts p
    JOIN win w ON w.feedetl_sn = p.feedetl_sn
    WHERE w.window_cnt > p.limit_num
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
    '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限' || CAST(window_days AS VARCHAR) || '天内支付'
        || CAST(CAST(limit_num AS INTEGER) AS VARCHAR) || '次，该参保人自' || CAST(window_first AS VARCHAR) || '起周期内累计' || CAST(CAST(window_cnt AS DECIMAL(16, 2)) AS VARCHAR) || '次' AS message,
    kp_id,
    '周期天数=' || CAST(window_days AS VARCHAR) || '；周期内限定次数=' || CAST(CAST(limit_num AS INTEGER) AS VARCHAR) || '；周期内累计次数=' || CAST(CAST(window_cnt AS DECIMAL(16, 2)) AS VARCHAR)
        || '；周期内首次日期=' || CAST(window_first AS VARCHAR) AS detail
FROM over_limit
