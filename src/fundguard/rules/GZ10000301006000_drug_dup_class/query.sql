-- 重复开药: two or more different generics of one pharmacological class billed on the same day of one visit;
-- the lines of every generic after the first are reported.
WITH refunds AS (
    SELECT init_feedetl_sn, sum(amt) AS refund_amt
    FROM fee
    WHERE init_feedetl_sn IS NOT NULL AND cnt < 0
    GROUP BY init_feedetl_sn
),
lines AS (
    -- original lines net of their refunds (fully refunded lines drop out below)
    SELECT f.*, f.amt + coalesce(r.refund_amt, 0) AS net_amt
    FROM fee f
    LEFT JOIN refunds r ON r.init_feedetl_sn = f.feedetl_sn
    WHERE f.cnt > 0
),
classed AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.group_name, k.item_name, k.code_prefix) AS drug_class,
        substr(l.med_list_codg, 1, 10) AS generic_key,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY length(coalesce(k.code_prefix, k.med_list_codg, '')) DESC, k.kp_id) AS kp_rank
    FROM lines l
    JOIN kb k ON k.kp_type = 'drug_dup_class'
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    WHERE l.net_amt > 0
),
first_use AS (
    SELECT mdtrt_id, fee_date, drug_class, generic_key, min(fee_ocur_time) AS first_time, min(feedetl_sn) AS first_sn
    FROM classed
    WHERE kp_rank = 1
    GROUP BY mdtrt_id, fee_date, drug_class, generic_key
),
ranked AS (
    SELECT
        u.*,
        row_number() OVER (PARTITION BY mdtrt_id, fee_date, drug_class ORDER BY first_time, first_sn) AS generic_rank,
        count(*) OVER (PARTITION BY mdtrt_id, fee_date, drug_class) AS n_generics
    FROM first_use u
)
SELECT
    l.feedetl_sn,
    l.setl_id,
    l.mdtrt_id,
    l.psn_no,
    l.fixmedins_code,
    l.bilg_dr_codg,
    l.med_list_codg,
    l.fee_ocur_time AS occur_time,
    CAST(l.net_amt AS DECIMAL(16, 2)) AS violation_amount,
    '同一就诊同日开具' || CAST(r.n_generics AS VARCHAR) || '种' || l.drug_class || '，“' || coalesce(l.hilist_name, l.med_list_codg)
        || '”与已开具的同类药品药理作用相同，属重复开药' AS message,
    l.kp_id,
    'level=line；药理类别=' || l.drug_class || '；同类品种数=' || CAST(r.n_generics AS VARCHAR) || '；本品种序位=' || CAST(r.generic_rank AS VARCHAR) AS detail
FROM classed l
JOIN ranked r
    ON r.mdtrt_id = l.mdtrt_id AND r.fee_date = l.fee_date AND r.drug_class = l.drug_class AND r.generic_key = l.generic_key
WHERE l.kp_rank = 1 AND r.generic_rank > 1
