-- 医疗服务项目限科室使用: an item restricted to some departments (limit_value = allowed 科室 codes, '|' separated;
-- a code also admits its sub-departments, e.g. A05 admits A05.01) billed by another department.
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
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'item_dept'
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
    '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限' || replace(limit_value, '|', '、') || '科室使用，开单科室为' || coalesce(bilg_dept_name, bilg_dept_codg, '未填') AS message,
    kp_id,
    '限定科室=' || limit_value || '；开单科室=' || coalesce(bilg_dept_codg, '未填') AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND (bilg_dept_codg IS NULL OR ('|' || limit_value || '|') NOT LIKE ('%|' || bilg_dept_codg || '|%')
       AND ('|' || limit_value || '|') NOT LIKE ('%|' || substr(bilg_dept_codg, 1, 3) || '|%'))
