-- 耗材限儿童使用: a 儿童-only consumable billed to a person past the 儿童 age on the fee date.
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
hit AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.limit_value,
        k.limit_num,
        (year(l.fee_date) - year(p.brdy))
        - CASE WHEN month(l.fee_date) * 100 + day(l.fee_date) < month(p.brdy) * 100 + day(p.brdy) THEN 1 ELSE 0 END AS age,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN kb k
        ON (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') <> ''
                AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            -- consumables are often known by product name only (e.g. 人工晶体): match the catalogue name
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND k.kp_type = 'consumable_age'
        AND k.limit_value = '儿童'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    WHERE l.list_type = '301' OR l.med_chrgitm_type = '08'
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
    '医用耗材「' || coalesce(item_name, hilist_name, med_list_codg) || '」限儿童使用，参保人费用发生时已满' || CAST(age AS VARCHAR) || '周岁，不属于医保基金支付范围' AS message,
    kp_id,
    '限定对象=儿童；儿童年龄上限=' || CAST(${child_max_age} AS VARCHAR) || '周岁；患者年龄=' || CAST(age AS VARCHAR) || '周岁' AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND age >= ${child_max_age}
