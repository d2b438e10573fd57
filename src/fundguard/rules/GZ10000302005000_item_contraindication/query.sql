-- 医疗服务项目禁忌症: a service item billed on a visit that carries a diagnosis contraindicating it.
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
vdiag AS (
    SELECT mdtrt_id, upper(diag_code) AS diag_code FROM diag WHERE diag_code IS NOT NULL
    UNION
    SELECT mdtrt_id, upper(dscg_maindiag_code) AS diag_code FROM mdtrt WHERE dscg_maindiag_code IS NOT NULL
),
hit AS (
    SELECT
        l.*,
        k.kp_id,
        coalesce(k.item_name, l.hilist_name, l.med_list_codg) AS item,
        d.diag_code,
        coalesce(k.related_name, k.related_codg) AS contra_name,
        row_number() OVER (PARTITION BY l.feedetl_sn ORDER BY k.kp_id, d.diag_code) AS kp_rank
    FROM lines l
    JOIN kb k ON k.kp_type = 'item_contraindication'
        AND coalesce(k.related_codg, '') <> ''
        AND (
            (coalesce(k.med_list_codg, '') <> '' AND k.med_list_codg = l.med_list_codg)
            OR (coalesce(k.code_prefix, '') <> '' AND substr(l.med_list_codg, 1, length(k.code_prefix)) = k.code_prefix)
            OR (coalesce(k.med_list_codg, '') = '' AND coalesce(k.code_prefix, '') = '' AND coalesce(k.item_name, '') <> ''
                AND l.hilist_name LIKE '%' || k.item_name || '%')
        )
        AND (k.begndate IS NULL OR k.begndate <= l.fee_date)
        AND (k.enddate IS NULL OR l.fee_date <= k.enddate)
    JOIN vdiag d ON d.mdtrt_id = l.mdtrt_id AND substr(d.diag_code, 1, length(k.related_codg)) = upper(k.related_codg)
    WHERE l.net_amt > 0
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
    '患者诊断' || l.diag_code || '（' || l.contra_name || '）为医疗服务项目“' || l.item || '”的禁忌症' AS message,
    l.kp_id,
    '禁忌诊断=' || l.diag_code || '；禁忌类别=' || l.contra_name AS detail
FROM hit l
WHERE l.kp_rank = 1
