-- CT检查占比统计: per institution and month, the share of CT检查费用 in all medical fees, compared with the
-- leave-one-out average of its peers (same 医疗机构类别 medins_type and hospital tier). Levels: 黄/橙/红
-- when the share exceeds the peer average by ${level_yellow}/${level_orange}/${level_red} (relative).
WITH lines AS (
    SELECT
        f.fixmedins_code,
        CAST(date_trunc('month', f.fee_date) AS DATE) AS month_start,
        f.det_item_fee_sumamt,
        CASE WHEN eq.med_list_codg IS NOT NULL THEN 1 ELSE 0 END AS in_cat
    FROM fee f
    LEFT JOIN (
        SELECT DISTINCT fx.med_list_codg
        FROM (SELECT DISTINCT med_list_codg FROM fee) fx
        JOIN kb k
            ON k.kp_type = 'item_equip' AND k.limit_value = ${equip_type}
            AND (fx.med_list_codg = k.med_list_codg
                OR (k.code_prefix IS NOT NULL AND k.code_prefix <> '' AND fx.med_list_codg LIKE k.code_prefix || '%'))
    ) eq ON eq.med_list_codg = f.med_list_codg
),
per_inst AS (
    SELECT
        l.fixmedins_code,
        l.month_start,
        sum(l.det_item_fee_sumamt) AS total_amt,
        sum(CASE WHEN l.in_cat = 1 THEN l.det_item_fee_sumamt ELSE 0 END) AS cat_amt
    FROM lines l
    GROUP BY l.fixmedins_code, l.month_start
),
eligible AS (
    SELECT
        p.*,
        coalesce(i.medins_type, '') AS peer_type,
        i.hosp_tier,
        CAST(p.cat_amt AS DOUBLE) / CAST(p.total_amt AS DOUBLE) AS ratio
    FROM per_inst p
    JOIN medins i ON i.fixmedins_code = p.fixmedins_code
    WHERE coalesce(i.fixmedins_type, '1') <> '2' AND p.total_amt >= ${min_total_amt}
),
peered AS (
    SELECT
        e.*,
        count(*) OVER (PARTITION BY peer_type, hosp_tier, month_start) - 1 AS n_peers,
        sum(ratio) OVER (PARTITION BY peer_type, hosp_tier, month_start) - ratio AS peer_sum
    FROM eligible e
),
deviated AS (
    SELECT
        p.*,
        peer_sum / n_peers AS peer_avg,
        round(ratio / (peer_sum / n_peers) - 1, 4) AS dev
    FROM peered p
    WHERE n_peers >= ${min_peers} AND n_peers > 0 AND peer_sum > 0
),
levelled AS (
    SELECT
        d.*,
        CASE
            WHEN dev >= ${level_red} THEN '红'
            WHEN dev >= ${level_orange} THEN '橙'
            WHEN dev >= ${level_yellow} THEN '黄'
        END AS warn_level
    FROM deviated d
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS VARCHAR) AS psn_no,
    fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(month_start AS TIMESTAMP) AS occur_time,
    CAST(cat_amt - peer_avg * total_amt AS DECIMAL(16, 2)) AS violation_amount,
    '【' || warn_level || '色预警】' || substr(CAST(month_start AS VARCHAR), 1, 7) || 'CT检查费用占比'
        || CAST(CAST(ratio * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%，同类机构平均'
        || CAST(CAST(peer_avg * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%，高出'
        || CAST(CAST(dev * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '预警等级=' || warn_level || '；统计月份=' || substr(CAST(month_start AS VARCHAR), 1, 7) || '；CT检查费用占比='
        || CAST(CAST(ratio * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%；同类机构平均='
        || CAST(CAST(peer_avg * 100 AS DECIMAL(8, 2)) AS VARCHAR) || '%；同类机构数=' || CAST(n_peers AS VARCHAR)
        || '；同类口径=医疗机构类别' || peer_type || '+' || CAST(hosp_tier AS VARCHAR) || '级；CT检查费用='
        || CAST(CAST(cat_amt AS DECIMAL(16, 2)) AS VARCHAR) || '；医疗费用总额=' || CAST(CAST(total_amt AS DECIMAL(16, 2)) AS VARCHAR)
        AS detail
FROM levelled
WHERE warn_level IS NOT NULL
