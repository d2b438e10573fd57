-- 检验检查超设备产能: tests of one device type billed on one day beyond equip_cnt × daily_capacity.
-- Speed (20M lines): exact codes and every prefix length that occurs are one keyed hash join that carries the
-- line and point columns (no second pass over the lines, no join on kp_id with a date range).
WITH ik AS (
    -- match keys of a point: its exact code (length -1) and its prefix (its length)
    SELECT kp_id, med_list_codg, code_prefix, limit_value, begndate, enddate, med_list_codg AS mkey, -1 AS mlen
    FROM kb
    WHERE kp_type = 'item_equip' AND med_list_codg IS NOT NULL
    UNION ALL
    SELECT kp_id, med_list_codg, code_prefix, limit_value, begndate, enddate, code_prefix AS mkey,
        length(code_prefix) AS mlen
    FROM kb
    WHERE kp_type = 'item_equip' AND code_prefix IS NOT NULL
),
match_len AS (
    SELECT DISTINCT mlen AS len FROM ik
),
mapped AS (
    SELECT
        c.fixmedins_code,
        c.fee_date,
        c.fee_ocur_time,
        c.cnt,
        c.amt,
        k.limit_value AS equip_type,
        k.kp_id,
        row_number() OVER (
            PARTITION BY c.feedetl_sn ORDER BY length(coalesce(k.med_list_codg, k.code_prefix)) DESC, k.kp_id
        ) AS kp_rank
    FROM (
        SELECT f.feedetl_sn, f.fixmedins_code, f.fee_date, f.fee_ocur_time, f.cnt, f.amt, l.len,
            CASE WHEN l.len = -1 THEN f.med_list_codg ELSE substr(f.med_list_codg, 1, l.len) END AS mkey
        FROM fee f CROSS JOIN match_len l
    ) c
    JOIN ik k
        ON k.mkey = c.mkey
        AND k.mlen = c.len
        AND (k.begndate IS NULL OR k.begndate <= c.fee_date)
        AND (k.enddate IS NULL OR c.fee_date <= k.enddate)
),
daily AS (
    SELECT
        fixmedins_code,
        equip_type,
        fee_date,
        min(kp_id) AS kp_id,
        min(fee_ocur_time) AS first_time,
        sum(cnt) AS tests,
        sum(amt) AS day_amt
    FROM mapped
    WHERE kp_rank = 1
    GROUP BY fixmedins_code, equip_type, fee_date
),
capacity AS (
    SELECT fixmedins_code, equip_type, sum(equip_cnt) AS equip_cnt, sum(equip_cnt * daily_capacity) AS cap
    FROM equip
    GROUP BY fixmedins_code, equip_type
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS VARCHAR) AS psn_no,
    d.fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(d.first_time AS TIMESTAMP) AS occur_time,
    CAST(d.day_amt * (d.tests - c.cap) / d.tests AS DECIMAL(16, 2)) AS violation_amount,
    CAST(d.fee_date AS VARCHAR) || '收取' || d.equip_type || '类检验检查' || CAST(CAST(d.tests AS DECIMAL(16, 0)) AS VARCHAR)
        || '次，超过登记设备' || CAST(c.equip_cnt AS VARCHAR) || '台的日最大产能' || CAST(c.cap AS VARCHAR) || '次' AS message,
    d.kp_id,
    'level=institution；设备类型=' || d.equip_type || '；日期=' || CAST(d.fee_date AS VARCHAR) || '；检测量='
        || CAST(CAST(d.tests AS DECIMAL(16, 0)) AS VARCHAR) || '；设备台数=' || CAST(c.equip_cnt AS VARCHAR)
        || '；日产能=' || CAST(c.cap AS VARCHAR) AS detail
FROM daily d
JOIN capacity c ON c.fixmedins_code = d.fixmedins_code AND c.equip_type = d.equip_type
WHERE d.tests > c.cap
