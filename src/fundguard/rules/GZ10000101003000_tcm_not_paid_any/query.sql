-- 中药饮片单复方均不予支付: a herb the catalogue excludes from payment whether used alone or in a compound
-- prescription, settled with an in-scope (fund-payable) amount.
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
matched AS (
    -- a point names the herb by national code, or (饮片 lists published by name) by its catalogue name
    SELECT l.feedetl_sn, k.kp_id, k.item_name
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'tcm_not_paid_any'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
    UNION ALL
    SELECT l.feedetl_sn, k.kp_id, k.item_name
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg IS NULL
        AND k.item_name = l.hilist_name
        AND k.kp_type = 'tcm_not_paid_any'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
hit AS (
    SELECT feedetl_sn, kp_id, item_name, row_number() OVER (PARTITION BY feedetl_sn ORDER BY kp_id) AS kp_rank
    FROM matched
)
SELECT
    l.feedetl_sn,
    l.setl_id,
    l.mdtrt_id,
    l.psn_no,
    l.fixmedins_code,
    l.bilg_dr_codg,
    l.med_list_codg,
    CAST(l.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '中药饮片「' || coalesce(h.item_name, l.hilist_name, l.med_list_codg) || '」单复方均不予支付，但按医保支付范围结算' AS message,
    h.kp_id,
    '目录规定=单复方均不予支付；符合政策范围金额=' || CAST(CAST(net_amt AS DECIMAL(16, 2)) AS VARCHAR) AS detail
FROM line l
JOIN hit h ON h.feedetl_sn = l.feedetl_sn AND h.kp_rank = 1
WHERE l.net_amt > 0
