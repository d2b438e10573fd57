-- 医用耗材超限定报销总额: the in-scope amount a person is reimbursed for one 医用耗材 (or for the group of codes a
-- point names in group_name) above the cap (kb item_reimb_cap limit_num) within window_days (rolling, per person,
-- across institutions), or within one visit when the point gives no window. Amounts add up in billing order; the
-- line that crosses the cap counts for its excess, later lines in full.
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
capped AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.limit_num AS cap_amt,
        k.window_days,
        coalesce(k.group_name, k.med_list_codg, k.code_prefix, k.item_name) AS cap_key,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY CASE WHEN coalesce(k.admdvs, '') = '' THEN 1 ELSE 0 END, k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') <> ''
                AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            -- consumables are often known by product name only (e.g. 人工晶体): match the catalogue name
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND k.kp_type = 'item_reimb_cap'
        AND k.limit_num IS NOT NULL
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    WHERE l.list_type = '301'
),
pts AS (
    SELECT * FROM capped WHERE kp_rank = 1
),
win AS (
    SELECT a.feedetl_sn, sum(b.net_amt) AS window_amt
    FROM pts a
    JOIN pts b
        ON b.psn_no = a.psn_no
        AND b.cap_key = a.cap_key
        AND (
            (a.window_days IS NULL AND b.mdtrt_id = a.mdtrt_id)
            OR (a.window_days IS NOT NULL AND b.fee_date <= a.fee_date AND date_diff('day', b.fee_date, a.fee_date) < a.window_days)
        )
        AND (b.fee_ocur_time < a.fee_ocur_time OR (b.fee_ocur_time = a.fee_ocur_time AND b.feedetl_sn <= a.feedetl_sn))
    GROUP BY a.feedetl_sn
),
over_cap AS (
    SELECT p.*, w.window_amt, least(p.net_amt, w.window_amt - p.cap_amt) AS excess_amt
    FROM pts p
    JOIN win w ON w.feedetl_sn = p.feedetl_sn
    WHERE w.window_amt > p.cap_amt
      AND p.net_amt > 0
)
SELECT
    o.feedetl_sn,
    o.setl_id,
    o.mdtrt_id,
    o.psn_no,
    o.fixmedins_code,
    o.bilg_dr_codg,
    o.med_list_codg,
    CAST(o.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(o.excess_amt AS DECIMAL(16, 2)) AS violation_amount,
    '医用耗材「' || coalesce(o.item_name, o.hilist_name, o.med_list_codg) || '」限定报销总额' || CAST(CAST(o.cap_amt AS DECIMAL(16, 2)) AS VARCHAR)
        || '元（' || CASE WHEN o.window_days IS NULL THEN '每次就诊' ELSE CAST(o.window_days AS VARCHAR) || '天内' END || '），累计已达'
        || CAST(CAST(o.window_amt AS DECIMAL(16, 2)) AS VARCHAR) || '元' AS message,
    o.kp_id,
    '限定报销总额=' || CAST(CAST(o.cap_amt AS DECIMAL(16, 2)) AS VARCHAR) || '元；统计范围=' || CASE WHEN o.window_days IS NULL THEN '同一就诊' ELSE CAST(o.window_days AS VARCHAR) || '天滚动窗口' END
        || '；累计符合政策范围金额=' || CAST(CAST(o.window_amt AS DECIMAL(16, 2)) AS VARCHAR) || '元' AS detail
FROM over_cap o
