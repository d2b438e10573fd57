-- 耗材限新生儿使用: a 新生儿-only consumable billed to a person past the 新生儿 age on the fee date.
-- Knowledge first (docs/performance.md, round 3): the points are matched on the distinct billed codes and names
-- (shared relations kb_code_kp / kb_name_kp, filled once per screen); only lines of matched codes or names
-- are read and netted of their refunds.
WITH ik AS (
    SELECT kp_id, med_list_codg, item_name, limit_value, limit_num, begndate, enddate, admdvs
    FROM kb
    WHERE kp_type = 'consumable_age' AND limit_value = '新生儿'
),
code_kp AS (
    -- by a point's code, or by its code prefix when it has no code
    SELECT DISTINCT c.med_list_codg, c.kp_id
    FROM kb_code_kp c
    JOIN ik k ON k.kp_id = c.kp_id
    WHERE c.kp_type = 'consumable_age' AND c.orig = 1 AND (c.match_by = 'code' OR coalesce(k.med_list_codg, '') = '')
),
name_kp AS (
    -- consumables are often known by product name only (e.g. 人工晶体): the catalogue name contains it
    SELECT DISTINCT hilist_name, kp_id
    FROM kb_name_kp
    WHERE kp_type = 'consumable_age' AND orig = 1 AND kp_id IN (SELECT kp_id FROM ik)
),
lines_k AS (
    -- (original line, point): the code and name branches never meet the same point, so UNION ALL keeps one row
    -- each, as the former OR join. The consumable test comes later (see `hit`): a filter that rejects every
    -- line before these joins would keep DuckDB from ending the fee scan early when nothing matched.
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.list_type, f.med_chrgitm_type, f.fee_ocur_time, f.fee_date, f.cnt, f.amt, c.kp_id
    FROM fee f
    JOIN code_kp c ON c.med_list_codg = f.med_list_codg
    WHERE f.init_feedetl_sn IS NULL
    UNION ALL
    SELECT f.feedetl_sn, f.setl_id, f.mdtrt_id, f.psn_no, f.fixmedins_code, f.bilg_dr_codg, f.med_list_codg,
        f.hilist_name, f.list_type, f.med_chrgitm_type, f.fee_ocur_time, f.fee_date, f.cnt, f.amt, n.kp_id
    FROM fee f
    JOIN name_kp n ON n.hilist_name = f.hilist_name
    WHERE f.init_feedetl_sn IS NULL
),
refund AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn IN (SELECT feedetl_sn FROM lines_k)
    GROUP BY init_feedetl_sn
),
line AS (
    -- those lines net of their refunds; fully refunded lines drop out
    SELECT f.*, f.cnt + coalesce(r.refund_cnt, 0) AS net_cnt, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM lines_k f
    LEFT JOIN refund r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt + coalesce(r.refund_cnt, 0) > 0
),
hit AS (
    SELECT
        l.*,
        k.item_name,
        k.limit_value,
        k.limit_num,
        date_diff('day', p.brdy, l.fee_date) AS age_days,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN psn p ON p.psn_no = l.psn_no
    JOIN ik k
        ON k.kp_id = l.kp_id
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
    '医用耗材「' || coalesce(item_name, hilist_name, med_list_codg) || '」限新生儿使用，参保人费用发生时出生已' || CAST(age_days AS VARCHAR) || '天，不属于医保基金支付范围' AS message,
    kp_id,
    '限定对象=新生儿；新生儿期=出生' || CAST(${newborn_max_days} AS VARCHAR) || '天内；患者出生天数=' || CAST(age_days AS VARCHAR) AS detail
FROM hit
WHERE kp_rank = 1
  AND net_amt > 0
  AND age_days >= ${newborn_max_days}
