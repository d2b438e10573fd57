-- 检验检查超设备产能: tests of one device type billed on one day beyond equip_cnt × daily_capacity.
WITH ik AS (
    SELECT kp_id, med_list_codg, code_prefix FROM kb WHERE kp_type = 'item_equip'
),
prefix_len AS (
    SELECT DISTINCT length(code_prefix) AS len FROM ik WHERE code_prefix IS NOT NULL
),
kmatch AS (
    -- (line, point) pairs as hash joins: by code, and by the code cut to each prefix length that occurs
    SELECT f.feedetl_sn, k.kp_id
    FROM fee f
    JOIN ik k ON k.med_list_codg = f.med_list_codg
    UNION
    SELECT c.feedetl_sn, k.kp_id
    FROM (SELECT f.feedetl_sn, p.len, substr(f.med_list_codg, 1, p.len) AS pfx FROM fee f CROSS JOIN prefix_len p) c
    JOIN ik k ON k.code_prefix = c.pfx AND length(k.code_prefix) = c.len
),
mapped AS (
    SELECT
        f.fixmedins_code,
        f.fee_date,
        f.fee_ocur_time,
        f.cnt,
        f.amt,
        k.limit_value AS equip_type,
        k.kp_id,
        row_number() OVER (
            PARTITION BY f.feedetl_sn ORDER BY length(coalesce(k.med_list_codg, k.code_prefix)) DESC, k.kp_id
        ) AS kp_rank
    FROM kmatch m
    JOIN fee f ON f.feedetl_sn = m.feedetl_sn
    JOIN kb k
        ON k.kp_id = m.kp_id
        AND k.kp_type = 'item_equip'
        AND (k.begndate IS NULL OR k.begndate <= f.fee_date)
        AND (k.enddate IS NULL OR f.fee_date <= k.enddate)
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
