-- 手术项目未按规定折价收费: two or more operations of one 主次手术 group billed in one visit on one day
-- (经同一切口). The first operation billed is the main one (ties: the higher full price); each later line
-- ("第二及以后的手术") must be billed at most secondary_ratio x its full price. Full price = the price cap of the item for the institution's tier
-- (kb item_price_cap) when known, else the highest unit price the institution billed for the item.
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
surg AS (
    SELECT
        l.*,
        m.hosp_tier,
        m.admdvs,
        k.kp_id,
        k.item_name,
        k.group_name,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'surgery_group'
        AND k.group_name IS NOT NULL
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
cap AS (
    SELECT s.feedetl_sn, min(k.limit_num) AS cap_price
    FROM surg s
    JOIN kb k
        ON k.med_list_codg = s.med_list_codg
        AND k.kp_type = 'item_price_cap'
        AND k.limit_num IS NOT NULL
        AND (coalesce(k.group_name, '') = '' OR k.group_name = CAST(s.hosp_tier AS VARCHAR))
        AND (k.begndate IS NULL OR k.begndate <= s.fee_date)
        AND (k.enddate IS NULL OR s.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = s.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(s.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(s.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    WHERE s.kp_rank = 1
    GROUP BY s.feedetl_sn
),
seen AS (
    -- the institution's own full price: the highest unit price it billed for the item; only for the items of
    -- the surgery-group lines (grouping every line by institution and item cost 1.4 s at 20M lines)
    SELECT fixmedins_code, med_list_codg, max(pric) AS max_pric
    FROM fee
    WHERE cnt > 0 AND med_list_codg IN (SELECT med_list_codg FROM surg WHERE kp_rank = 1)
    GROUP BY fixmedins_code, med_list_codg
),
priced AS (
    SELECT
        s.*,
        coalesce(c.cap_price, x.max_pric) AS full_price,
        CASE WHEN c.cap_price IS NULL THEN '本机构该项目最高收费单价' ELSE '限定单价' END AS full_price_source
    FROM surg s
    LEFT JOIN cap c ON c.feedetl_sn = s.feedetl_sn
    LEFT JOIN seen x ON x.fixmedins_code = s.fixmedins_code AND x.med_list_codg = s.med_list_codg
    WHERE s.kp_rank = 1
),
ordered AS (
    SELECT
        p.*,
        row_number() OVER (
            PARTITION BY mdtrt_id, group_name, fee_date
            ORDER BY fee_ocur_time, full_price DESC, pric DESC, feedetl_sn
        ) AS op_no,
        count(*) OVER (PARTITION BY mdtrt_id, group_name, fee_date) AS op_cnt
    FROM priced p
),
undiscounted AS (
    SELECT
        o.*,
        full_price * ${secondary_ratio} AS allowed_price,
        net_amt * (pric - full_price * ${secondary_ratio}) / pric AS excess_amt
    FROM ordered o
    WHERE op_no >= 2
      AND pric > full_price * ${secondary_ratio} + 0.005
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
    CAST(excess_amt AS DECIMAL(16, 2)) AS violation_amount,
    '「' || group_name || '」同一就诊同日第' || CAST(op_no AS VARCHAR) || '台手术「' || coalesce(item_name, hilist_name, med_list_codg)
        || '」按' || CAST(CAST(pric AS DECIMAL(16, 2)) AS VARCHAR) || '元收费，未按规定折价（应不高于'
        || CAST(CAST(allowed_price AS DECIMAL(16, 2)) AS VARCHAR) || '元）' AS message,
    kp_id,
    '手术组=' || group_name || '；同组手术数=' || CAST(op_cnt AS VARCHAR) || '；本项序号=' || CAST(op_no AS VARCHAR)
        || '；全价=' || CAST(CAST(full_price AS DECIMAL(16, 2)) AS VARCHAR) || '元（' || full_price_source || '）；折价比例='
        || CAST(${secondary_ratio} AS VARCHAR) || '；收费单价=' || CAST(CAST(pric AS DECIMAL(16, 2)) AS VARCHAR) || '元' AS detail
FROM undiscounted
