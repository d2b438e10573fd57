-- 医疗服务项目超限定单价收费: unit price above the region's price cap for the institution's tier.
-- A tier-specific cap (group_name = hosp_tier) wins over a cap for all tiers; a region's own cap over a national one.
-- Speed (20M lines): a line can exceed its winning cap only if its price exceeds the smallest cap of its code for
-- its institution's tier, so only those lines are netted, joined to the knowledge and ranked.
WITH cap_min AS (
    -- knowledge × institutions: the smallest cap of each billed code at each institution's tier, so the fee lines
    -- meet it on two equalities (joined by code alone, 8.6M lines × 4 tiers passed the price test at 20M). Its size is
    -- institutions × capped codes: 18M rows (20,000 institutions × 917 codes) cost 3 CPU-s against 20M lines.
    SELECT m.fixmedins_code, k.med_list_codg, min(k.limit_num) AS min_cap
    FROM kb k
    JOIN medins m
        ON coalesce(k.group_name, '') = '' OR k.group_name = CAST(m.hosp_tier AS VARCHAR)
    WHERE k.kp_type = 'item_price_cap' AND k.limit_num IS NOT NULL
        -- only the billed codes' caps (事中 on SQLite: not all of them grouped in every statement)
        AND k.med_list_codg IN (SELECT med_list_codg FROM kb_billed)
    GROUP BY m.fixmedins_code, k.med_list_codg
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
    JOIN cap_min c ON c.fixmedins_code = f.fixmedins_code AND c.med_list_codg = f.med_list_codg AND f.pric > c.min_cap
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.init_feedetl_sn IS NULL
      AND f.cnt + coalesce(r.refund_cnt, 0) > 0
),
capped AS (
    SELECT
        l.*,
        m.hosp_tier,
        k.kp_id,
        k.item_name,
        k.limit_num AS cap_price,
        row_number() OVER (
            PARTITION BY l.feedetl_sn
            ORDER BY CASE WHEN coalesce(k.group_name, '') = '' THEN 1 ELSE 0 END,
                CASE WHEN coalesce(k.admdvs, '') = '' THEN 1 ELSE 0 END, k.limit_num, k.kp_id
        ) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'item_price_cap'
        AND k.limit_num IS NOT NULL
        AND (coalesce(k.group_name, '') = '' OR k.group_name = CAST(m.hosp_tier AS VARCHAR))
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
over_cap AS (
    SELECT c.*, net_amt * (pric - cap_price) / pric AS excess_amt
    FROM capped c
    WHERE kp_rank = 1
      AND pric > cap_price
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
    '医疗服务项目「' || coalesce(item_name, hilist_name, med_list_codg) || '」收费单价' || CAST(CAST(pric AS DECIMAL(16, 2)) AS VARCHAR)
        || '元，超过本机构级别限定单价' || CAST(CAST(cap_price AS DECIMAL(16, 2)) AS VARCHAR) || '元' AS message,
    kp_id,
    '限定单价=' || CAST(CAST(cap_price AS DECIMAL(16, 2)) AS VARCHAR) || '元；收费单价=' || CAST(CAST(pric AS DECIMAL(16, 2)) AS VARCHAR)
        || '元；数量=' || CAST(CAST(net_cnt AS DECIMAL(16, 2)) AS VARCHAR) || '；机构级别=' || CAST(hosp_tier AS VARCHAR) AS detail
FROM over_cap
