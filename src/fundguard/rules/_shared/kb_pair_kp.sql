-- 已收费（编码, 名称）命中知识点: every billed (code, name) pair with each knowledge point naming it: by code or
-- code prefix (kb_code_kp, per code) or, for a name-only point, by an item name the billed name contains
-- (kb_name_kp). pos / orig as in kb_billed, per pair. A rule takes its kp_type from here and joins the fee lines on
-- (code, name) — one hash join, where the point's `code OR prefix OR name LIKE` condition on the lines was a loop.
SELECT b.med_list_codg, b.hilist_name, b.pos, b.orig, c.kp_type, c.kp_id
FROM kb_code_kp c
JOIN kb_billed b ON b.med_list_codg = c.med_list_codg
UNION
SELECT med_list_codg, hilist_name, pos, orig, kp_type, kp_id
FROM kb_name_kp
