-- 药品限儿童使用: a 儿童-only drug billed to a person aged >= child_max_age on the fee date.
-- Knowledge first (docs/performance.md, round 3): only lines of a listed code are read and netted of refunds.
WITH ik AS (
    SELECT kp_id, med_list_codg, item_name, begndate, enddate, admdvs
    FROM kb
    WHERE kp_type = 'drug_age' AND limit_value = '儿童'
),
lines_k AS (
    -- original lines of a listed code
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    WHERE f.init_feedetl_sn IS NULL AND f.med_list_codg IN (SELECT med_list_codg FROM ik)
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn IN (SELECT feedetl_sn FROM lines_k)
    GROUP BY init_feedetl_sn
),
line AS (
    -- those lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM lines_k f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt + coalesce(r.refund_cnt, 0) > 0
),
aged AS (
    -- the person's age on the fee date; only lines of adults (and not fully refunded) go on to the points — both
    -- are facts of the line, so filtering before the ranking below keeps the winning point (psn_no is unique)
    SELECT
        l.*,
        (year(l.fee_date) - year(p.brdy))
        - CASE WHEN month(l.fee_date) * 100 + day(l.fee_date) < month(p.brdy) * 100 + day(p.brdy) THEN 1 ELSE 0 END
            AS age
    FROM line l
    JOIN psn p ON p.psn_no = l.psn_no
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM aged l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN ik k
        ON k.med_list_codg = l.med_list_codg
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    WHERE l.net_amt > 0 AND l.age >= ${child_max_age}
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
    '药品「' || coalesce(item_name, med_list_codg) || '」限儿童使用，参保人费用发生时已满'
        || CAST(age AS VARCHAR) || '周岁，不属于医保基金支付范围' AS message,
    kp_id,
    '限定对象=儿童；儿童年龄上限=' || CAST(${child_max_age} AS VARCHAR) || '周岁；患者年龄=' || CAST(age AS VARCHAR) || '周岁' AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND age >= ${child_max_age}
