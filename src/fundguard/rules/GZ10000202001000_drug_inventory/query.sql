-- 药品进销存异常: settled quantity of a drug at an institution beyond what its 进销存 shows available.
-- Per (fixmedins_code, med_list_codg) the settled lines run cumulatively in fee_ocur_time order; the
-- quantity available by a line's month end is every non-sale movement up to that day (采购入库, 退货出库,
-- 盘点调整, 报损, 调拨; inv_type 2 销售出库 is left out because the settlements are the sales). Units of a
-- line beyond that cap are flagged. Only institutions that report 进销存 at all are screened.
-- Speed (20M lines): the exact running sum is computed only for the (institution, drug) series that can
-- exceed their cap. A line's running quantity never exceeds the series' positive quantities up to its month end
-- (refunds only lower it), so a series whose cumulative positive monthly quantity stays within the cumulative
-- monthly 进销存 for every month cannot fire and is skipped; both bounds come from small monthly aggregates.
WITH reporting AS (
    SELECT DISTINCT fixmedins_code
    FROM inventory
),
monthly AS (
    -- per series and month: positive settled quantity and non-sale stock movements
    SELECT fixmedins_code, med_list_codg, month_end, sum(sold_pos) AS sold_pos, sum(moved) AS moved
    FROM (
        SELECT f.fixmedins_code, f.med_list_codg, last_day(f.fee_date) AS month_end,
            CASE WHEN f.cnt > 0 THEN f.cnt ELSE 0 END AS sold_pos, CAST(NULL AS DECIMAL(16, 4)) AS moved
        FROM fee f
        JOIN reporting rp ON rp.fixmedins_code = f.fixmedins_code
        WHERE f.list_type IN ${list_types}
            AND f.fee_ocur_time IS NOT NULL
        UNION ALL
        SELECT i.fixmedins_code, i.med_list_codg, last_day(i.occur_date) AS month_end,
            0 AS sold_pos, i.cnt AS moved
        FROM inventory i
        WHERE i.occur_date IS NOT NULL
            AND coalesce(i.inv_type, '') <> '2'
    ) u
    GROUP BY fixmedins_code, med_list_codg, month_end
),
cap AS (
    -- available by a month end = every non-sale movement up to that day
    SELECT
        fixmedins_code,
        med_list_codg,
        month_end,
        coalesce(sum(moved) OVER (
            PARTITION BY fixmedins_code, med_list_codg ORDER BY month_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ), 0) AS available,
        sum(sold_pos) OVER (
            PARTITION BY fixmedins_code, med_list_codg ORDER BY month_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS sold_bound
    FROM monthly
),
candidate AS (
    SELECT DISTINCT fixmedins_code, med_list_codg
    FROM cap
    WHERE sold_bound > available
),
refunds AS (
    SELECT init_feedetl_sn, sum(cnt) AS refund_cnt, sum(amt) AS refund_amt
    FROM fee
    WHERE cnt < 0 AND init_feedetl_sn IS NOT NULL
    GROUP BY init_feedetl_sn
),
-- a line counts net of the refunds that reverse it (a sale refunded an hour later never left the shelf);
-- refund lines not linked to their original line still reduce the running quantity
netted AS (
    SELECT
        f.feedetl_sn,
        f.setl_id,
        f.mdtrt_id,
        f.psn_no,
        f.fixmedins_code,
        f.bilg_dr_codg,
        f.med_list_codg,
        f.hilist_name,
        f.fee_ocur_time,
        f.fee_date,
        f.cnt + coalesce(r.refund_cnt, 0) AS cnt,
        f.amt + coalesce(r.refund_amt, 0) AS amt
    FROM fee f
    JOIN candidate c ON c.fixmedins_code = f.fixmedins_code AND c.med_list_codg = f.med_list_codg
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.list_type IN ${list_types}
        AND f.fee_ocur_time IS NOT NULL
        AND (f.cnt > 0 OR coalesce(f.init_feedetl_sn, '') = '')
),
sold AS (
    SELECT
        n.*,
        last_day(n.fee_date) AS month_end,
        sum(n.cnt) OVER (
            PARTITION BY n.fixmedins_code, n.med_list_codg
            ORDER BY n.fee_ocur_time, n.feedetl_sn
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS run_end
    FROM netted n
),
over AS (
    SELECT
        s.*,
        c.available,
        s.run_end - CASE WHEN s.run_end - s.cnt > c.available THEN s.run_end - s.cnt ELSE c.available END AS over_cnt
    FROM sold s
    JOIN cap c
        ON c.fixmedins_code = s.fixmedins_code
        AND c.med_list_codg = s.med_list_codg
        AND c.month_end = s.month_end
    WHERE s.cnt > 0 AND s.run_end > c.available
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
    CAST(amt * over_cnt / cnt AS DECIMAL(16, 2)) AS violation_amount,
    '「' || coalesce(hilist_name, med_list_codg) || '」截至' || CAST(month_end AS VARCHAR) || '累计结算数量'
        || CAST(CAST(run_end AS DECIMAL(16, 2)) AS VARCHAR) || '，超过进销存可供数量'
        || CAST(CAST(available AS DECIMAL(16, 2)) AS VARCHAR) || '，本明细超出'
        || CAST(CAST(over_cnt AS DECIMAL(16, 2)) AS VARCHAR) || '，疑似串换或虚记' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    '统计月末=' || CAST(month_end AS VARCHAR) || '；累计结算数量=' || CAST(CAST(run_end AS DECIMAL(16, 2)) AS VARCHAR)
        || '；进销存可供数量=' || CAST(CAST(available AS DECIMAL(16, 2)) AS VARCHAR)
        || '；本明细数量=' || CAST(CAST(cnt AS DECIMAL(16, 2)) AS VARCHAR)
        || '；超出数量=' || CAST(CAST(over_cnt AS DECIMAL(16, 2)) AS VARCHAR) AS detail
FROM over
