-- 医疗服务项目限支付疗程: payment limited to N days per person. By default N counts distinct billing dates
-- (official logic "使用项目的日期总计超过限制天数"); a point stated in months or years ("12个月", "一年") is a
-- continuous span from the first use ("自第一次使用起的连续时间跨度"). Lines past the limit are not payable.
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
course AS (
    SELECT
        l.*,
        k.kp_id,
        k.item_name,
        k.limit_num,
        -- the restriction text (limit_value, else the explanatory note) says whether it is a span
        -- ("12个月", "一年"; not 年龄)
        coalesce(k.limit_value, k.description, '') LIKE '%个月%' OR coalesce(k.limit_value, k.description, '') LIKE '%半年%' OR coalesce(k.limit_value, k.description, '') LIKE '%一年%' OR coalesce(k.limit_value, k.description, '') LIKE '%1年%'
            OR coalesce(k.limit_value, k.description, '') LIKE '%两年%' OR coalesce(k.limit_value, k.description, '') LIKE '%2年%' AS is_span,
        -- one course per person and drug/item (all national codes of one generic name share it);
        -- a point limited per admission ("单次住院") counts each visit on its own
        coalesce(k.item_name, k.med_list_codg) AS course_key,
        CASE WHEN k.limit_value = '单次住院' THEN l.mdtrt_id END AS course_visit,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id) AS kp_rank
    FROM line l
    JOIN medins m ON m.fixmedins_code = l.fixmedins_code
    JOIN kb k
        ON k.med_list_codg = l.med_list_codg
        AND k.kp_type = 'item_course'
        AND k.limit_num IS NOT NULL
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
        AND (coalesce(k.admdvs, '') = '' OR k.admdvs = m.admdvs
            OR (substr(k.admdvs, 5, 2) = '00' AND substr(k.admdvs, 3, 2) <> '00' AND substr(m.admdvs, 1, 4) = substr(k.admdvs, 1, 4))
            OR (substr(k.admdvs, 3, 4) = '0000' AND substr(m.admdvs, 1, 2) = substr(k.admdvs, 1, 2)))
),
ranked AS (
    SELECT
        c.*,
        dense_rank() OVER (PARTITION BY psn_no, course_key, course_visit ORDER BY fee_date) AS day_no,
        min(fee_date) OVER (PARTITION BY psn_no, course_key, course_visit) AS first_date
    FROM course c
    WHERE kp_rank = 1
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
    CASE WHEN is_span
        THEN '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限支付' || CAST(CAST(limit_num AS INTEGER) AS VARCHAR)
            || '天（自首次使用起），本明细距首次使用（' || CAST(first_date AS VARCHAR) || '）已' || CAST(date_diff('day', first_date, fee_date) AS VARCHAR) || '天'
        ELSE '医疗服务项目「' || coalesce(item_name, med_list_codg) || '」限支付' || CAST(CAST(limit_num AS INTEGER) AS VARCHAR)
            || '天，本明细为该参保人第' || CAST(day_no AS VARCHAR) || '个使用日，超出支付疗程'
    END AS message,
    kp_id,
    '限定支付天数=' || CAST(CAST(limit_num AS INTEGER) AS VARCHAR) || '；计算口径=' || CASE WHEN is_span THEN '连续时间跨度' ELSE '使用日期总计' END
        || '；首次使用日期=' || CAST(first_date AS VARCHAR) || '；本明细使用日序号=' || CAST(day_no AS VARCHAR) AS detail
FROM ranked
WHERE net_amt > 0
  AND ((NOT is_span AND day_no > limit_num) OR (is_span AND date_diff('day', first_date, fee_date) >= limit_num))
