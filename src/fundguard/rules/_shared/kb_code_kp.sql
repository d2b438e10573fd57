-- 编码命中知识点: every billed code × every knowledge point (any kp_type) naming it by med_list_codg
-- (match_by 'code') or by a code_prefix the code starts with (match_by 'prefix'); empty codes and prefixes
-- match nothing. pos / orig as in kb_billed, per code. A rule takes its kp_type (and its own point filter
-- by kp_id) from here, then reads only the fee lines of the matched codes.
WITH codes AS (
    SELECT med_list_codg, max(pos) AS pos, max(orig) AS orig
    FROM kb_billed
    WHERE med_list_codg IS NOT NULL
    GROUP BY med_list_codg
),
prefix_len AS (
    SELECT DISTINCT length(code_prefix) AS len FROM kb WHERE code_prefix <> ''
)
SELECT c.med_list_codg, c.pos, c.orig, k.kp_type, k.kp_id, 'code' AS match_by
FROM codes c
JOIN kb k ON k.med_list_codg = c.med_list_codg
WHERE k.med_list_codg <> ''
UNION ALL
-- the code cut to each prefix length that occurs, as a plain column to hash on (docs/performance.md)
SELECT c.med_list_codg, c.pos, c.orig, k.kp_type, k.kp_id, 'prefix' AS match_by
FROM (
    SELECT x.med_list_codg, x.pos, x.orig, p.len, substr(x.med_list_codg, 1, p.len) AS pfx
    FROM codes x
    CROSS JOIN prefix_len p
) c
-- a CROSS JOIN with the keys in WHERE: DuckDB and Spark plan the same hash join; SQLite (事中) keeps the cut
-- codes as the outer loop and looks the points up by index, instead of scanning every point per code
CROSS JOIN kb k
WHERE k.code_prefix = c.pfx AND length(k.code_prefix) = c.len
