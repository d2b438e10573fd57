-- 名称命中知识点: every billed (code, name) pair × every name-only knowledge point (no med_list_codg, no
-- code_prefix, an item_name) whose item_name the billed name contains — the rules' former
-- `hilist_name LIKE '%' || item_name || '%'`, run once per screen over the distinct pairs. contains() is
-- that LIKE for names without wildcard or escape characters and several times faster; the other names keep
-- the LIKE. pos / orig as in kb_billed, per pair.
WITH pts AS (
    SELECT kp_type, kp_id, item_name,
        strpos(item_name, '%') > 0 OR strpos(item_name, '_') > 0 OR strpos(item_name, chr(92)) > 0 AS wild
    FROM kb
    WHERE coalesce(med_list_codg, '') = '' AND coalesce(code_prefix, '') = '' AND coalesce(item_name, '') <> ''
)
SELECT b.med_list_codg, b.hilist_name, b.pos, b.orig, k.kp_type, k.kp_id
FROM kb_billed b
JOIN pts k ON NOT k.wild AND contains(b.hilist_name, k.item_name)
UNION ALL
SELECT b.med_list_codg, b.hilist_name, b.pos, b.orig, k.kp_type, k.kp_id
FROM kb_billed b
JOIN pts k ON k.wild AND b.hilist_name LIKE '%' || k.item_name || '%'
