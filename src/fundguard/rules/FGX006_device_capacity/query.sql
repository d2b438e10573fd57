-- 检验检查超设备产能: tests of one device type billed on one day beyond equip_cnt × daily_capacity.
-- Speed (20M lines): knowledge is matched on the distinct billed codes (exact code and every prefix length that
-- occurs as one keyed hash join), the winning point is ranked per (code, day), and the lines join it on equality.
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
code_point AS (
    -- (billed code, point) pairs: each distinct code cut to the key lengths and hash-joined
    SELECT DISTINCT c.med_list_codg, k.kp_id, k.med_list_codg AS point_codg, k.code_prefix, k.limit_value,
        k.begndate, k.enddate
    FROM (
        SELECT d.med_list_codg, l.len,
            CASE WHEN l.len = -1 THEN d.med_list_codg ELSE substr(d.med_list_codg, 1, l.len) END AS mkey
        FROM (SELECT DISTINCT med_list_codg FROM fee) d CROSS JOIN match_len l
    ) c
    JOIN ik k ON k.mkey = c.mkey AND k.mlen = c.len
),
day_point AS (
    -- the point in force depends only on (code, day): ranked once per combination, not per line
    SELECT
        x.med_list_codg,
        x.day_key,
        p.limit_value AS equip_type,
        p.kp_id,
        row_number() OVER (
            PARTITION BY x.med_list_codg, x.day_key ORDER BY length(coalesce(p.point_codg, p.code_prefix)) DESC, p.kp_id
        ) AS kp_rank
    FROM (
        SELECT DISTINCT med_list_codg, fee_date, coalesce(fee_date, DATE '0001-01-01') AS day_key
        FROM fee
        WHERE med_list_codg IN (SELECT med_list_codg FROM code_point)
    ) x
    JOIN code_point p
        ON p.med_list_codg = x.med_list_codg
        AND (p.begndate IS NULL OR p.begndate <= x.fee_date)
        AND (p.enddate IS NULL OR x.fee_date <= p.enddate)
),
mapped AS (
    SELECT f.fixmedins_code, f.fee_date, f.fee_ocur_time, f.cnt, f.amt, w.equip_type, w.kp_id, w.kp_rank
    FROM fee f
    JOIN day_point w
        ON w.med_list_codg = f.med_list_codg
        AND w.day_key = coalesce(f.fee_date, DATE '0001-01-01')
        AND w.kp_rank = 1
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
