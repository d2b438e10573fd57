-- 已收费的（目录编码, 名称）: the distinct (code, name) pairs of the fee lines — thousands, where the lines are
-- millions — with whether any line of the pair is positive (cnt > 0) or an original line (not a refund).
-- The knowledge-match family (kb_code_kp, kb_name_kp) starts from here instead of scanning the lines per rule.
SELECT
    med_list_codg,
    hilist_name,
    max(CASE WHEN cnt > 0 THEN 1 ELSE 0 END) AS pos,
    max(CASE WHEN init_feedetl_sn IS NULL THEN 1 ELSE 0 END) AS orig
FROM fee
GROUP BY med_list_codg, hilist_name
