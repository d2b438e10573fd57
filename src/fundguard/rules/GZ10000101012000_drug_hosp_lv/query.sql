-- 药品限医疗机构级别: billed at an institution below the minimum tier of the knowledge point.
-- Candidates first (docs/performance.md, round 2): a line can only fire if some point for its drug is above
-- its institution's tier, so only lines of those (institution, drug) pairs are netted and ranked.
WITH below_tier AS (
    SELECT DISTINCT m.fixmedins_code, k.med_list_codg
    FROM medins m
    JOIN kb k
        ON k.kp_type = 'drug_hosp_lv'
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    WHERE m.hosp_tier < coalesce(CAST(k.limit_num AS INTEGER), CASE WHEN k.limit_value LIKE '%三级%' THEN 3 WHEN k.limit_value LIKE '%二级%' THEN 2 WHEN k.limit_value LIKE '%一级%' THEN 1 END)
        -- only drugs that were billed: the institution x point join (its region test is no equi-join) then
        -- pairs a handful of points, not all of them (事中 pass of 64 claims: 124 ms -> see docs/realtime-audit.md)
        AND k.med_list_codg IN (SELECT med_list_codg FROM fee WHERE init_feedetl_sn IS NULL)
),
cand AS (
    SELECT f.*
    FROM fee f
    JOIN below_tier b ON b.fixmedins_code = f.fixmedins_code AND b.med_list_codg = f.med_list_codg
    -- the IN (codes alone, a few thousand) drops most lines before the two-key join (round 3)
    WHERE f.init_feedetl_sn IS NULL AND f.med_list_codg IN (SELECT med_list_codg FROM below_tier)
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn IN (SELECT feedetl_sn FROM cand)
    GROUP BY init_feedetl_sn
),
line AS (
    -- candidate lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM cand f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt + coalesce(r.refund_cnt, 0) > 0
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.limit_value,
        k.limit_num,
        m.hosp_tier,
        coalesce(CAST(k.limit_num AS INTEGER), CASE WHEN k.limit_value LIKE '%三级%' THEN 3 WHEN k.limit_value LIKE '%二级%' THEN 2 WHEN k.limit_value LIKE '%一级%' THEN 1 END) AS min_tier,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'drug_hosp_lv'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
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
    CAST(net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '药品「' || coalesce(item_name, med_list_codg) || '」限' || CAST(min_tier AS VARCHAR) || '级及以上医疗机构使用，本机构等级为' || CASE WHEN hosp_tier = 0 THEN '无等级' ELSE CAST(hosp_tier AS VARCHAR) || '级' END AS message,
    kp_id,
    '限定最低机构级别=' || CAST(min_tier AS VARCHAR) || '级；机构级别=' || CAST(hosp_tier AS VARCHAR) || '（0=无等级）' AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND hosp_tier < min_tier
