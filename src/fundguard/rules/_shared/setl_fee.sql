-- 结算×就诊的费用明细汇总 / the fee lines of each (settlement, visit) pair, aggregated once per screen.
-- Read by GZ10000201001000/3000/7000/8000 instead of scanning 20M lines each: they test these figures
-- first and re-read lines only for the few candidates (docs/performance.md, round 3).
-- All lines count (refunds too, as the views hold them); pos = lines with cnt > 0. NULL keys form their own
-- group (a line without setl_id still belongs to its visit).
SELECT
    setl_id,
    mdtrt_id,
    count(*) AS n_lines,
    sum(det_item_fee_sumamt) AS fee_sumamt,
    min(CASE WHEN cnt > 0 THEN fee_ocur_time END) AS first_pos_time,
    max(CASE WHEN cnt > 0 THEN fee_ocur_time END) AS last_pos_time
FROM fee
GROUP BY setl_id, mdtrt_id
