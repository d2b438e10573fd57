-- 中药饮片单方使用不予支付: a herb payable only in compound prescriptions, used alone — the line is marked
-- 单方 (tcmdrug_used_way 2), or every herb of its prescription is on the same list. A prescription is the 医嘱号
-- (drord_no) of the visit, or the visit's herbs of one day when no 医嘱号 is given.
-- Speed (20M lines): knowledge first (docs/performance.md, round 3) — only visits with an original line whose
-- code or name is on the list can have a finding, so only their herb and listed lines are netted and examined
-- (a prescription never spans visits).
WITH listed AS (
    SELECT med_list_codg, item_name FROM kb WHERE kp_type = 'tcm_not_paid_single'
),
listed_visit AS (
    -- visits with an original line of a listed code, or (points without a code) of a listed catalogue name
    SELECT f.mdtrt_id
    FROM fee f
    JOIN listed k ON k.med_list_codg = f.med_list_codg
    WHERE f.init_feedetl_sn IS NULL
    UNION
    SELECT f.mdtrt_id
    FROM fee f
    JOIN listed k ON k.med_list_codg IS NULL AND k.item_name = f.hilist_name
    WHERE f.init_feedetl_sn IS NULL
),
cand AS (
    -- the original lines of those visits (the herb / listed test is in `line`: as a filter here it could reject
    -- every line before the join, and DuckDB would read all fee lines even when no visit qualified)
    SELECT f.*
    FROM fee f
    WHERE f.init_feedetl_sn IS NULL AND f.mdtrt_id IN (SELECT mdtrt_id FROM listed_visit)
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn IN (SELECT feedetl_sn FROM cand)
    GROUP BY init_feedetl_sn
),
line AS (
    -- herb and listed lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM cand f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt + coalesce(r.refund_cnt, 0) > 0
      AND (f.list_type = '102' OR f.med_chrgitm_type = '10'
        OR f.med_list_codg IN (SELECT med_list_codg FROM listed)
        OR f.hilist_name IN (SELECT item_name FROM listed WHERE med_list_codg IS NULL))
),
matched AS (
    -- a point names the herb by national code, or (饮片 lists published by name) by its catalogue name
    SELECT l.feedetl_sn, k.kp_id, k.item_name
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'tcm_not_paid_single'
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
        AND k.kp_type = 'tcm_not_paid_single'
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
hit AS (
    SELECT feedetl_sn, kp_id, item_name, row_number() OVER (PARTITION BY feedetl_sn ORDER BY kp_id) AS kp_rank
    FROM matched
),
herb AS (
    SELECT
        l.*,
        coalesce(l.drord_no, CAST(l.fee_date AS VARCHAR)) AS rx_key
    FROM line l
    WHERE l.list_type = '102' OR l.med_chrgitm_type = '10'
       OR l.feedetl_sn IN (SELECT feedetl_sn FROM hit)
),
rx AS (
    SELECT
        hb.mdtrt_id,
        hb.rx_key,
        count(*) AS herb_cnt,
        count(h.feedetl_sn) AS listed_cnt
    FROM herb hb
    LEFT JOIN hit h ON h.feedetl_sn = hb.feedetl_sn AND h.kp_rank = 1
    GROUP BY hb.mdtrt_id, hb.rx_key
)
SELECT
    hb.feedetl_sn,
    hb.setl_id,
    hb.mdtrt_id,
    hb.psn_no,
    hb.fixmedins_code,
    hb.bilg_dr_codg,
    hb.med_list_codg,
    CAST(hb.fee_ocur_time AS TIMESTAMP) AS occur_time,
    CAST(hb.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '中药饮片「' || coalesce(h.item_name, hb.hilist_name, hb.med_list_codg) || '」单方使用不予支付，'
        || CASE WHEN hb.tcmdrug_used_way = '2' THEN '本明细标记为单方使用' ELSE '所在处方全部由单方不予支付饮片组成' END AS message,
    h.kp_id,
    '中药使用方式=' || coalesce(hb.tcmdrug_used_way, '未填') || '；处方饮片味数=' || CAST(r.herb_cnt AS VARCHAR)
        || '；其中单方不予支付饮片味数=' || CAST(r.listed_cnt AS VARCHAR) AS detail
FROM herb hb
JOIN hit h ON h.feedetl_sn = hb.feedetl_sn AND h.kp_rank = 1
JOIN rx r ON r.mdtrt_id = hb.mdtrt_id AND r.rx_key = hb.rx_key
WHERE hb.net_amt > 0
  AND (hb.tcmdrug_used_way = '2' OR r.listed_cnt = r.herb_cnt)
