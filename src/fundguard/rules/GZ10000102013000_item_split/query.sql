-- 医疗服务项目分解收费: two or more different 拆分项目 (kb item_split_pair related_codg) of one 合并项目
-- (med_list_codg) billed in one visit (on one day for 单日 points) instead of the combined item. What should
-- have been charged is the combined item's price: its cap for the institution's tier, else the institution's
-- highest price for it, else (unknown) the most expensive split line; the excess over it is spread over the
-- split lines in proportion to their amounts.
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
part AS (
    SELECT
        l.*,
        m.hosp_tier,
        m.admdvs,
        k.kp_id,
        k.med_list_codg AS combined_codg,
        k.item_name AS combined_name,
        CASE WHEN k.window_days = 1 THEN l.fee_date END AS window_date,
        row_number() OVER (PARTITION BY l.feedetl_sn, k.med_list_codg ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.related_codg = l.med_list_codg
        AND k.kp_type = 'item_split_pair'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
grp AS (
    SELECT
        mdtrt_id, combined_codg, window_date,
        count(DISTINCT med_list_codg) AS part_kinds,
        sum(net_amt) AS split_amt,
        max(net_amt) AS max_part_amt,
        min(fixmedins_code) AS fixmedins_code,
        min(hosp_tier) AS hosp_tier,
        min(admdvs) AS admdvs,
        min(fee_date) AS first_date
    FROM part
    WHERE kp_rank = 1
    GROUP BY mdtrt_id, combined_codg, window_date
    HAVING count(DISTINCT med_list_codg) >= 2
),
cap AS (
    SELECT g.mdtrt_id, g.combined_codg, g.window_date, min(k.limit_num) AS cap_price
    FROM grp g
    JOIN kb k
        ON k.med_list_codg = g.combined_codg
        AND k.kp_type = 'item_price_cap'
        AND k.limit_num IS NOT NULL
        AND (coalesce(k.group_name, '') = '' OR k.group_name = CAST(g.hosp_tier AS VARCHAR))
        AND (k.begndate IS NULL OR k.begndate <= g.first_date)
        AND (k.enddate IS NULL OR g.first_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = g.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(g.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(g.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    GROUP BY g.mdtrt_id, g.combined_codg, g.window_date
),
seen AS (
    -- the institution's highest price for a combined item, only for the combined items of the groups found
    SELECT fixmedins_code, med_list_codg, max(pric) AS max_pric
    FROM fee
    WHERE cnt > 0 AND med_list_codg IN (SELECT combined_codg FROM grp)
    GROUP BY fixmedins_code, med_list_codg
),
priced AS (
    SELECT
        g.*,
        coalesce(c.cap_price, s.max_pric, g.max_part_amt) AS due_amt,
        CASE WHEN c.cap_price IS NOT NULL THEN '合并项目限定单价' WHEN s.max_pric IS NOT NULL THEN '本机构合并项目最高收费单价'
            ELSE '拆分项目中金额最高一项' END AS due_source
    FROM grp g
    LEFT JOIN cap c ON c.mdtrt_id = g.mdtrt_id AND c.combined_codg = g.combined_codg
        AND coalesce(CAST(c.window_date AS VARCHAR), '-') = coalesce(CAST(g.window_date AS VARCHAR), '-')
    LEFT JOIN seen s ON s.fixmedins_code = g.fixmedins_code AND s.med_list_codg = g.combined_codg
),
spread AS (
    SELECT
        p.*,
        g.part_kinds,
        g.split_amt,
        g.due_amt,
        g.due_source,
        row_number() OVER (PARTITION BY p.feedetl_sn ORDER BY p.combined_codg) AS line_rank
    FROM part p
    JOIN priced g
        ON g.mdtrt_id = p.mdtrt_id AND g.combined_codg = p.combined_codg
        AND coalesce(CAST(g.window_date AS VARCHAR), '-') = coalesce(CAST(p.window_date AS VARCHAR), '-')
    WHERE p.kp_rank = 1
      AND g.split_amt > g.due_amt
      AND p.net_amt > 0
)
SELECT
    s.feedetl_sn,
    s.setl_id,
    s.mdtrt_id,
    s.psn_no,
    s.fixmedins_code,
    s.bilg_dr_codg,
    s.med_list_codg,
    CAST(s.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(s.net_amt * (s.split_amt - s.due_amt) / s.split_amt AS DECIMAL(16, 2)) AS violation_amount,
    '同一就诊' || CASE WHEN s.window_date IS NULL THEN '' ELSE '同日' END || '分别收取「' || coalesce(s.combined_name, s.combined_codg) || '」的'
        || CAST(s.part_kinds AS VARCHAR) || '个拆分项目，应按合并项目收费' AS message,
    s.kp_id,
    '合并项目=' || s.combined_codg || '；拆分项目数=' || CAST(s.part_kinds AS VARCHAR) || '；拆分收费合计=' || CAST(CAST(s.split_amt AS DECIMAL(16, 2)) AS VARCHAR)
        || '元；应收=' || CAST(CAST(s.due_amt AS DECIMAL(16, 2)) AS VARCHAR) || '元（' || s.due_source || '）' AS detail
FROM spread s
WHERE s.line_rank = 1
