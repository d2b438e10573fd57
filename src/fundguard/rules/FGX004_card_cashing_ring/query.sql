-- 药店刷卡套现团伙: persons cycling the same drugs through several pharmacies (purchase-refund-repurchase)
-- who share those (pharmacy, drug) cycles with other persons.
-- Candidates first: every line below belongs to a (person, drug) with a pharmacy refund (a cycle starts with one),
-- so the refund lines (under 1 % of all) choose the (person, drug) pairs, and only their lines are tested for being
-- pharmacy lines, not all 20M.
-- A pharmacy line: its own 医疗类别 is 41 (its visit's when it has none; decision 0019) or it was billed by a
-- pharmacy (fixmedins_type 2).
WITH refund_key AS (
    SELECT DISTINCT f.psn_no, f.med_list_codg
    FROM fee f
    LEFT JOIN medins i ON i.fixmedins_code = f.fixmedins_code
    WHERE f.cnt < 0 AND (f.med_type = '41' OR i.fixmedins_type = '2')
    UNION
    SELECT f.psn_no, f.med_list_codg
    FROM fee f
    JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
    WHERE f.cnt < 0 AND f.med_type IS NULL AND m.med_type = '41'
),
ph_line AS (
    SELECT f.feedetl_sn, f.psn_no, f.fixmedins_code, f.med_list_codg, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    JOIN refund_key k ON k.psn_no = f.psn_no AND k.med_list_codg = f.med_list_codg
    LEFT JOIN medins i ON i.fixmedins_code = f.fixmedins_code
    WHERE f.med_type = '41' OR i.fixmedins_type = '2'
    UNION ALL
    SELECT f.feedetl_sn, f.psn_no, f.fixmedins_code, f.med_list_codg, f.fee_ocur_time, f.fee_date, f.cnt, f.amt
    FROM fee f
    JOIN refund_key k ON k.psn_no = f.psn_no AND k.med_list_codg = f.med_list_codg
    JOIN mdtrt m ON m.mdtrt_id = f.mdtrt_id
    LEFT JOIN medins i ON i.fixmedins_code = f.fixmedins_code
    WHERE f.med_type IS NULL AND coalesce(i.fixmedins_type, '') <> '2' AND m.med_type = '41'
),
cycle AS (
    -- (person, pharmacy, drug) with a refund followed by a repurchase of the same drug within cycle_days
    SELECT DISTINCT r.psn_no, r.fixmedins_code, r.med_list_codg
    FROM ph_line r
    JOIN ph_line q
        ON q.psn_no = r.psn_no
        AND q.med_list_codg = r.med_list_codg
        AND q.cnt > 0
        AND q.fee_ocur_time > r.fee_ocur_time
        AND date_diff('day', r.fee_date, q.fee_date) <= ${cycle_days}
    WHERE r.cnt < 0
),
own AS (
    SELECT psn_no, count(DISTINCT fixmedins_code) AS n_pharm, count(DISTINCT med_list_codg) AS n_drug, count(*) AS n_combo
    FROM cycle
    GROUP BY psn_no
),
shared AS (
    SELECT a.psn_no, b.psn_no AS partner, count(*) AS n_shared
    FROM cycle a
    JOIN cycle b
        ON b.fixmedins_code = a.fixmedins_code
        AND b.med_list_codg = a.med_list_codg
        AND b.psn_no <> a.psn_no
    GROUP BY a.psn_no, b.psn_no
),
ring AS (
    SELECT psn_no, count(*) AS partners, max(n_shared) AS max_shared, min(partner) AS a_partner
    FROM shared
    WHERE n_shared >= ${min_shared_combos}
    GROUP BY psn_no
),
money AS (
    SELECT c.psn_no, sum(l.amt) AS net_amt, min(l.fee_ocur_time) AS first_time, count(CASE WHEN l.cnt < 0 THEN 1 END) AS n_refund,
        min(c.fixmedins_code) AS a_pharmacy
    FROM cycle c
    JOIN ph_line l ON l.psn_no = c.psn_no AND l.fixmedins_code = c.fixmedins_code AND l.med_list_codg = c.med_list_codg
    GROUP BY c.psn_no
)
SELECT
    CAST(NULL AS VARCHAR) AS feedetl_sn,
    CAST(NULL AS VARCHAR) AS setl_id,
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    o.psn_no,
    m.a_pharmacy AS fixmedins_code,
    CAST(NULL AS VARCHAR) AS bilg_dr_codg,
    CAST(NULL AS VARCHAR) AS med_list_codg,
    CAST(m.first_time AS TIMESTAMP) AS occur_time,
    CAST(greatest(m.net_amt, 0) AS DECIMAL(16, 2)) AS violation_amount,
    '参保人在' || CAST(o.n_pharm AS VARCHAR) || '家药店对' || CAST(o.n_drug AS VARCHAR) || '种药品反复“购药—退费—再购药”（退费'
        || CAST(m.n_refund AS VARCHAR) || '次），并与另外' || CAST(r.partners AS VARCHAR) || '名参保人共享相同的药店药品循环，疑似刷卡套现团伙' AS message,
    CAST(NULL AS VARCHAR) AS kp_id,
    'level=person；循环药店数=' || CAST(o.n_pharm AS VARCHAR) || '；循环药品数=' || CAST(o.n_drug AS VARCHAR) || '；循环组合数='
        || CAST(o.n_combo AS VARCHAR) || '；退费明细数=' || CAST(m.n_refund AS VARCHAR) || '；同伙人数=' || CAST(r.partners AS VARCHAR)
        || '；最多共享组合数=' || CAST(r.max_shared AS VARCHAR) || '；同伙示例=' || r.a_partner AS detail
FROM own o
JOIN ring r ON r.psn_no = o.psn_no
JOIN money m ON m.psn_no = o.psn_no
WHERE o.n_pharm >= ${min_pharmacies}
  AND r.partners >= ${min_ring_partners}
