-- 医用耗材进销存异常: settled quantity of a consumable at an institution beyond what its 进销存 shows available.
-- Per (fixmedins_code, med_list_codg) the settled consumable lines run cumulatively in fee_ocur_time order; the
-- quantity available by a line's month end is every non-sale movement up to that day (采购入库, 退货出库,
-- 盘点调整, 报损, 调拨; inv_type 2 销售出库 is left out because the settlements are the sales). Units of a
-- line beyond that cap are flagged. Only institutions that report 进销存 at all are screened.
WITH reporting AS (
    SELECT DISTINCT fixmedins_code
    FROM inventory
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
    JOIN reporting rp ON rp.fixmedins_code = f.fixmedins_code
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
months AS (
    SELECT DISTINCT fixmedins_code, med_list_codg, month_end
    FROM sold
),
cap AS (
    SELECT
        m.fixmedins_code,
        m.med_list_codg,
        m.month_end,
        coalesce(sum(i.cnt), 0) AS available
    FROM months m
    LEFT JOIN inventory i
        ON i.fixmedins_code = m.fixmedins_code
        AND i.med_list_codg = m.med_list_codg
        AND i.occur_date <= m.month_end
        AND coalesce(i.inv_type, '') <> '2'
    GROUP BY m.fixmedins_code, m.med_list_codg, m.month_end
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
