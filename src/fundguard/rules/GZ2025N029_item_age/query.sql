-- 医疗服务项目限年龄: an item restricted to an age band (limit_value 'a-b' years, or 婴幼儿/青少年/成人/老年) billed
-- to a person outside it. 儿童 and 新生儿 points belong to GZ10000102006000 / GZ10000102005000.
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
        k.description,
        (year(l.fee_date) - year(p.brdy))
        - CASE WHEN month(l.fee_date) * 100 + day(l.fee_date) < month(p.brdy) * 100 + day(p.brdy) THEN 1 ELSE 0 END AS age,
        CASE k.limit_value WHEN '婴幼儿' THEN 0 WHEN '青少年' THEN 12 WHEN '成人' THEN 18 WHEN '老年' THEN 60
            ELSE CAST(substr(k.limit_value, 1, instr(k.limit_value, '-') - 1) AS DOUBLE) END AS age_lo,
        CASE k.limit_value WHEN '婴幼儿' THEN 3 WHEN '青少年' THEN 18 WHEN '成人' THEN 150 WHEN '老年' THEN 150
            ELSE CAST(substr(k.limit_value, instr(k.limit_value, '-') + 1) AS DOUBLE) END AS age_hi,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'item_age'
        AND (k.limit_value LIKE '%-%' OR k.limit_value IN ('婴幼儿', '青少年', '成人', '老年'))
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
    '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限' || coalesce(description, limit_value) || '，参保人费用发生时' || CAST(age AS VARCHAR) || '周岁' AS message,
    kp_id,
    '限定年龄=' || limit_value || '（' || CAST(CAST(age_lo AS INTEGER) AS VARCHAR) || '–' || CAST(CAST(age_hi AS INTEGER) AS VARCHAR) || '周岁）；患者年龄=' || CAST(age AS VARCHAR) || '周岁' AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND (age < age_lo OR age > age_hi)
