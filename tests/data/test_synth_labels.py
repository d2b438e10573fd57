"""Synthetic region: every label is really present in the data, and the background is clean.

For each scenario the signature is checked directly against the generated tables and the knowledge
the generator and the rules share (两库 facts, curated diag_gender / item_equip, the region price
list). `found` = every object in the whole data set that shows the pattern:
- labelled ⊆ found for every scenario (a label never points at something that is not there);
- found ⊆ labelled for the deterministic scenarios (the background does not show the pattern, so a
  rule that finds exactly the pattern has full precision).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from fundguard.data import schema
from fundguard.data.codes import HOSP_LV_TIER_SQL
from fundguard.data.scenarios import SCENARIOS
from fundguard.data.synth import generate, knowledge
from fundguard.data.synth.knowledge import _res

KEY = {
    "line": "feedetl_sn",
    "settlement": "setl_id",
    "visit": "mdtrt_id",
    "person": "psn_no",
    "institution": "fixmedins_code",
    "doctor": "bilg_dr_codg",
}
INPATIENT = "('21','22','23','24','25','26','28','52')"


@pytest.fixture(scope="module")
def con(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    out = tmp_path_factory.mktemp("labels")
    generate(out, persons=1500, seed=5, months=6)
    c = duckdb.connect()
    for t in schema.CLAIMS_TABLES:
        c.execute(f"CREATE TABLE {t.name} AS SELECT * FROM read_parquet('{out / (t.name + '.parquet')}')")
    c.execute(f"CREATE TABLE ground_truth AS SELECT * FROM read_parquet('{out / 'ground_truth.parquet'}')")
    c.execute(f"CREATE TABLE price_list AS SELECT * FROM read_csv('{out / 'kb' / 'price_list.csv'}', all_varchar=true)")
    kn = knowledge.load()
    for name, df in (("k_drug", kn.drugs), ("k_item", kn.items), ("k_pair", kn.pairs)):
        c.register(f"{name}_df", df)
        c.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
    for name in ("diag_gender", "item_equip", "drug_max_days", "chronic_disease_drug", "item_indication"):
        path = _res("curated") / f"{name}.csv"
        c.execute(f"CREATE TABLE c_{name} AS SELECT * FROM read_csv('{path}', all_varchar=true)")
    tier = HOSP_LV_TIER_SQL.format(c="i.hosp_lv")
    c.execute(
        f"""
        CREATE TABLE fee AS
        SELECT f.*, CAST(f.fee_ocur_time AS DATE) AS fee_date, p.gend, p.brdy, p.die_date,
               {tier} AS tier, s.insutype AS setl_insutype,
               floor(date_diff('day', p.brdy, CAST(f.fee_ocur_time AS DATE)) / 365.25) AS age
        FROM fee_list_d f
        JOIN psn_info p USING (psn_no)
        JOIN fixmedins i USING (fixmedins_code)
        JOIN setl_d s USING (setl_id)
        WHERE f.init_feedetl_sn IS NULL
          AND NOT EXISTS (SELECT 1 FROM fee_list_d r WHERE r.init_feedetl_sn = f.feedetl_sn)
        """
    )
    c.execute(
        """
        CREATE TABLE setl_valid AS
        SELECT s.* FROM setl_d s
        WHERE s.refd_setl_flag = '0' AND NOT EXISTS (SELECT 1 FROM setl_d r WHERE r.init_setl_id = s.setl_id)
        """
    )
    return c


SIGNATURES: dict[str, str] = {
    "drug_gender": """SELECT feedetl_sn FROM fee JOIN k_drug k ON k.med_list_codg = fee.med_list_codg
        WHERE (k.gender = '男' AND gend = '2') OR (k.gender = '女' AND gend = '1')""",
    "item_gender": """SELECT feedetl_sn FROM fee JOIN k_item k ON k.med_list_codg = fee.med_list_codg
        WHERE (k.gender = '男' AND gend = '2') OR (k.gender = '女' AND gend = '1')""",
    "drug_child": """SELECT feedetl_sn FROM fee JOIN k_drug k ON k.med_list_codg = fee.med_list_codg
        WHERE k.age = '儿童' AND fee.age >= 18""",
    "item_child": """SELECT feedetl_sn FROM fee JOIN k_item k ON k.med_list_codg = fee.med_list_codg
        WHERE k.age = '儿童' AND fee.age >= 18""",
    "drug_hosp_lv": """SELECT feedetl_sn FROM fee JOIN k_drug k ON k.med_list_codg = fee.med_list_codg
        WHERE k.min_tier <> '' AND tier < CAST(k.min_tier AS INT)""",
    "drug_med_type": f"""SELECT feedetl_sn FROM fee JOIN k_drug k ON k.med_list_codg = fee.med_list_codg
        WHERE k.med_type = '住院' AND fee.med_type NOT IN {INPATIENT}""",
    "drug_insutype": """SELECT feedetl_sn FROM fee JOIN k_drug k ON k.med_list_codg = fee.med_list_codg
        WHERE k.insutype <> '' AND setl_insutype IN ('310', '390')""",
    "drug_course": """SELECT feedetl_sn FROM (
          SELECT feedetl_sn, CAST(k.course_days AS INT) n,
                 dense_rank() OVER (PARTITION BY psn_no, fee.med_list_codg ORDER BY fee_date) r
          FROM fee JOIN k_drug k ON k.med_list_codg = fee.med_list_codg WHERE k.course_days <> '') WHERE r > n""",
    "item_course": """SELECT feedetl_sn FROM (
          SELECT feedetl_sn, CAST(k.course_days AS INT) n,
                 dense_rank() OVER (PARTITION BY psn_no, fee.med_list_codg ORDER BY fee_date) r
          FROM fee JOIN k_item k ON k.med_list_codg = fee.med_list_codg WHERE k.course_days <> '') WHERE r > n""",
    "item_frequency": """SELECT feedetl_sn FROM (
          SELECT feedetl_sn, CAST(k.freq_limit AS DOUBLE) lim,
                 sum(cnt) OVER (PARTITION BY mdtrt_id, fee_date, fee.med_list_codg) day_cnt
          FROM fee JOIN k_item k ON k.med_list_codg = fee.med_list_codg WHERE k.freq_limit <> '') WHERE day_cnt > lim""",
    "item_cycle": """SELECT feedetl_sn FROM (
          SELECT feedetl_sn, CAST(k.cycle_days AS INT) d,
                 lag(fee_date) OVER (PARTITION BY psn_no, fee.med_list_codg ORDER BY fee_ocur_time, feedetl_sn) prev,
                 fee_date
          FROM fee JOIN k_item k ON k.med_list_codg = fee.med_list_codg WHERE k.cycle_days <> '')
        WHERE prev IS NOT NULL AND date_diff('day', prev, fee_date) < d""",
    "dup_charge": """SELECT DISTINCT s.feedetl_sn FROM fee s
        JOIN k_pair p ON p.sub_codg = s.med_list_codg
        JOIN fee m ON m.mdtrt_id = s.mdtrt_id AND m.med_list_codg = p.main_codg
        WHERE p.window <> '单日' OR m.fee_date = s.fee_date""",
    "surgery_discount": """SELECT feedetl_sn FROM (
          SELECT feedetl_sn, fee.pric, CAST(pl.limit_num AS DOUBLE) cap,
                 row_number() OVER (PARTITION BY mdtrt_id, k.surgery_group ORDER BY fee_ocur_time, feedetl_sn) r
          FROM fee JOIN k_item k ON k.med_list_codg = fee.med_list_codg
          JOIN price_list pl ON pl.med_list_codg = fee.med_list_codg AND CAST(pl.group_name AS INT) = tier
          WHERE k.surgery_group <> '') WHERE r >= 2 AND pric >= cap""",
    "over_price": """SELECT feedetl_sn FROM fee
        JOIN price_list pl ON pl.med_list_codg = fee.med_list_codg AND CAST(pl.group_name AS INT) = tier
        WHERE fee.pric > CAST(pl.limit_num AS DOUBLE)""",
    "drug_swap": """SELECT feedetl_sn FROM fee WHERE list_type = '101' AND NOT EXISTS (
          SELECT 1 FROM inventory_d i WHERE i.inv_type = '1' AND i.fixmedins_code = fee.fixmedins_code
            AND i.med_list_codg = fee.med_list_codg AND date_trunc('month', i.occur_date) = date_trunc('month', fee_date))""",
    "over_quantity": f"""SELECT feedetl_sn FROM fee WHERE list_type = '101' AND med_type NOT IN {INPATIENT}
        AND prd_days > CASE med_type WHEN '13' THEN 3 WHEN '14' THEN 84 ELSE 7 END""",
    "split_admission": f"""SELECT DISTINCT b.mdtrt_id FROM mdtrt_d a JOIN mdtrt_d b
          ON a.psn_no = b.psn_no AND a.fixmedins_code = b.fixmedins_code AND a.mdtrt_id <> b.mdtrt_id
         AND a.dscg_maindiag_code = b.dscg_maindiag_code AND a.endtime <= b.begntime
         AND date_diff('day', CAST(a.endtime AS DATE), CAST(b.begntime AS DATE)) <= 15
        WHERE a.med_type IN {INPATIENT} AND b.med_type IN {INPATIENT}""",
    "otp_during_ipt": f"""SELECT DISTINCT s.setl_id FROM setl_valid s JOIN mdtrt_d m ON m.psn_no = s.psn_no
        WHERE s.med_type NOT IN {INPATIENT} AND m.med_type IN {INPATIENT}
          AND CAST(s.setl_time AS DATE) > CAST(m.begntime AS DATE) AND CAST(s.setl_time AS DATE) < CAST(m.endtime AS DATE)""",
    "bed_hanging": f"""WITH stay AS (SELECT * FROM mdtrt_d WHERE med_type IN {INPATIENT}),
        outside AS (SELECT DISTINCT m.mdtrt_id FROM setl_valid s JOIN stay m ON m.psn_no = s.psn_no
          WHERE s.med_type NOT IN {INPATIENT} AND CAST(s.setl_time AS DATE) > CAST(m.begntime AS DATE)
            AND CAST(s.setl_time AS DATE) < CAST(m.endtime AS DATE)),
        days AS (SELECT mdtrt_id, fee_date, bool_and(med_chrgitm_type IN ('01','02','07')) basic
          FROM fee WHERE med_type IN {INPATIENT} GROUP BY ALL)
        SELECT mdtrt_id FROM days JOIN outside USING (mdtrt_id) GROUP BY mdtrt_id HAVING avg(basic::INT) >= 0.5""",
    "impersonation": """WITH wrong AS (SELECT DISTINCT d.mdtrt_id FROM diag_d d JOIN mdtrt_d m USING (mdtrt_id)
          JOIN psn_info p USING (psn_no) JOIN c_diag_gender g ON starts_with(d.diag_code, g.code_prefix)
          WHERE (g.limit_value = '女' AND p.gend = '1') OR (g.limit_value = '男' AND p.gend = '2'))
        SELECT DISTINCT a.mdtrt_id FROM mdtrt_d a JOIN wrong USING (mdtrt_id) JOIN mdtrt_d b
          ON b.psn_no = a.psn_no AND b.mdtrt_id <> a.mdtrt_id AND b.fixmedins_code <> a.fixmedins_code
         AND abs(date_diff('minute', a.begntime, b.begntime)) <= 120""",
    "diag_gender": """SELECT DISTINCT d.mdtrt_id FROM diag_d d JOIN mdtrt_d m USING (mdtrt_id)
        JOIN psn_info p USING (psn_no) JOIN c_diag_gender g ON starts_with(d.diag_code, g.code_prefix)
        WHERE (g.limit_value = '女' AND p.gend = '1') OR (g.limit_value = '男' AND p.gend = '2')""",
    "post_death": """SELECT s.setl_id FROM setl_valid s JOIN psn_info p USING (psn_no)
        WHERE CAST(s.setl_time AS DATE) > p.die_date""",
    "doctor_volume": f"""SELECT DISTINCT bilg_dr_codg FROM (
          SELECT bilg_dr_codg, fee_date, hour(fee_ocur_time) h, count(DISTINCT mdtrt_id) n FROM fee
          WHERE cnt > 0 AND med_type NOT IN {INPATIENT} AND med_type <> '41' GROUP BY ALL) WHERE n > 12""",
    "card_cashing_ring": """SELECT psn_no FROM (
          SELECT r.psn_no, r.setl_id FROM setl_d r JOIN setl_d o ON o.setl_id = r.init_setl_id
          JOIN setl_valid again ON again.psn_no = r.psn_no AND again.med_type = '41'
           AND again.fixmedins_code <> r.fixmedins_code
           AND again.setl_time BETWEEN r.setl_time AND r.setl_time + INTERVAL 1 HOUR
          WHERE r.refd_setl_flag = '1' AND r.med_type = '41'
            AND date_diff('minute', o.setl_time, r.setl_time) <= 10)
        GROUP BY psn_no HAVING count(DISTINCT setl_id) >= 2""",
    "frequent_visits": """SELECT DISTINCT a.psn_no FROM mdtrt_d a JOIN mdtrt_d b ON a.psn_no = b.psn_no
          AND b.begntime >= a.begntime AND b.begntime < a.begntime + INTERVAL 30 DAY
        WHERE a.med_type IN ('11','13','14') AND b.med_type IN ('11','13','14')
        GROUP BY a.psn_no, a.mdtrt_id HAVING count(*) > 10""",
    "frequent_purchase": """SELECT DISTINCT a.psn_no FROM mdtrt_d a JOIN mdtrt_d b ON a.psn_no = b.psn_no
          AND b.begntime >= a.begntime AND b.begntime < a.begntime + INTERVAL 30 DAY
        WHERE a.med_type = '41' AND b.med_type = '41'
        GROUP BY a.psn_no, a.mdtrt_id HAVING count(*) > 8""",
    "device_capacity": """WITH eq AS (
          SELECT feedetl_sn, fixmedins_code, fee_date, cnt, e.limit_value equip,
                 row_number() OVER (PARTITION BY feedetl_sn ORDER BY length(e.code_prefix) DESC) r
          FROM fee JOIN c_item_equip e ON starts_with(fee.med_list_codg, e.code_prefix))
        SELECT DISTINCT eq.fixmedins_code FROM eq JOIN medins_equip_d d
          ON d.fixmedins_code = eq.fixmedins_code AND d.equip_type = eq.equip
        WHERE r = 1 GROUP BY eq.fixmedins_code, eq.equip, fee_date, d.equip_cnt, d.daily_capacity
        HAVING sum(cnt) > d.equip_cnt * d.daily_capacity""",
    "drg_upcoding": """SELECT s.setl_id FROM setl_valid s JOIN diag_d d ON d.mdtrt_id = s.mdtrt_id AND d.maindiag_flag = '0'
        WHERE s.drg_code LIKE '%1' AND date_diff('day', s.begndate, s.enddate) <= 3
          AND NOT EXISTS (SELECT 1 FROM fee f WHERE f.setl_id = s.setl_id AND f.fee_date > s.begndate
                          AND f.med_chrgitm_type NOT IN ('01','02','07'))""",
    "fake_admission": """SELECT a.mdtrt_id FROM mdtrt_d a JOIN setl_valid sa USING (mdtrt_id)
        JOIN mdtrt_d b ON b.fixmedins_code = a.fixmedins_code AND b.dscg_maindiag_code = a.dscg_maindiag_code
          AND abs(date_diff('day', a.begntime, b.begntime)) <= 3 AND b.med_type = '21'
        JOIN setl_valid sb ON sb.mdtrt_id = b.mdtrt_id
        WHERE a.med_type = '21' AND abs(sb.medfee_sumamt - sa.medfee_sumamt) <= 0.02 * sa.medfee_sumamt
        GROUP BY a.mdtrt_id HAVING count(*) >= 5""",
    "dup_reimbursement": """SELECT setl_id FROM (
          SELECT setl_id, row_number() OVER (PARTITION BY mdtrt_id ORDER BY setl_time, setl_id) r FROM setl_valid)
        WHERE r >= 2""",
    # a drug of a class (X/Z) the person's 门慢 病种 ranges cover, outside all of them (as GZ10000101011000 matches)
    "chronic_drug_scope": """WITH scope AS (
          SELECT related_codg, coalesce(med_list_codg, code_prefix) AS r FROM c_chronic_disease_drug
          WHERE related_codg IS NOT NULL),
        ranges AS (
          SELECT DISTINCT m.psn_no, s.r FROM mdtrt_d m JOIN diag_d d USING (mdtrt_id)
          JOIN scope s ON starts_with(d.diag_code, s.related_codg) WHERE m.med_type = '14')
        SELECT feedetl_sn FROM fee
        WHERE med_type = '14' AND list_type = '101'
          AND EXISTS (SELECT 1 FROM ranges p WHERE p.psn_no = fee.psn_no AND left(p.r, 1) = left(fee.med_list_codg, 1))
          AND NOT EXISTS (SELECT 1 FROM ranges p WHERE p.psn_no = fee.psn_no AND starts_with(fee.med_list_codg, p.r))""",
    # a line > 30 min after its settlement, or an outpatient/pharmacy line > 24 h before it (GZ10000201007000 defaults)
    "late_upload": f"""SELECT DISTINCT s.setl_id FROM fee_list_d f JOIN setl_d s USING (setl_id)
        WHERE s.refd_setl_flag = '0' AND f.cnt > 0
          AND (f.fee_ocur_time > s.setl_time + INTERVAL 30 MINUTE
               OR (s.med_type NOT IN {INPATIENT} AND f.fee_ocur_time < s.setl_time - INTERVAL 24 HOUR))""",
}


def test_every_scenario_has_a_signature_check() -> None:
    assert set(SIGNATURES) == {s.id for s in SCENARIOS}


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS], ids=lambda s: s.id)
def test_labels_are_present_and_background_is_clean(con, scenario) -> None:
    key = KEY[scenario.unit]
    labelled = {
        r[0] for r in con.execute(f"SELECT {key} FROM ground_truth WHERE scenario = ?", [scenario.id]).fetchall()
    }
    found = {r[0] for r in con.execute(SIGNATURES[scenario.id]).fetchall()}
    assert labelled, scenario.id
    assert labelled <= found, f"{scenario.id}: labelled but not in the data: {sorted(labelled - found)[:5]}"
    if scenario.deterministic:
        assert found <= labelled, f"{scenario.id}: unlabelled background violations: {sorted(found - labelled)[:5]}"


def test_labelled_lines_person_has_the_other_gender(con) -> None:
    """The drug_gender example of the brief, spelt out: the person's gend contradicts the drug's limit."""
    rows = con.execute(
        """SELECT p.gend, k.gender FROM ground_truth g JOIN fee_list_d f USING (feedetl_sn)
           JOIN psn_info p ON p.psn_no = f.psn_no JOIN k_drug k ON k.med_list_codg = f.med_list_codg
           WHERE g.scenario = 'drug_gender'"""
    ).fetchall()
    assert rows and all({"1": "女", "2": "男"}[g] == limit for g, limit in rows)


def test_amounts_at_stake_are_consistent(con) -> None:
    df = con.execute(
        """SELECT g.scenario, g.amount_at_stake, f.inscp_scp_amt FROM ground_truth g
           JOIN fee_list_d f USING (feedetl_sn)"""
    ).df()
    assert (df["amount_at_stake"] <= df["inscp_scp_amt"]).all()
    assert (df["amount_at_stake"] > 0).all()
    visits = con.execute(
        """SELECT g.amount_at_stake, s.inscp_scp_amt FROM ground_truth g JOIN setl_d s USING (setl_id)
           WHERE g.unit = 'visit'"""
    ).df()
    assert (visits["amount_at_stake"] == visits["inscp_scp_amt"]).all()
    assert isinstance(df, pd.DataFrame)


def test_duplicate_settlements_are_also_late_uploads(con) -> None:
    """A dup_reimbursement second settlement pays lines 1–3 days old, so it is labelled late_upload too."""
    labels = con.execute(
        "SELECT setl_id, list(scenario ORDER BY scenario) FROM ground_truth WHERE setl_id IN "
        "(SELECT setl_id FROM ground_truth WHERE scenario = 'dup_reimbursement') AND unit = 'settlement' GROUP BY 1"
    ).fetchall()
    assert labels and all(sc == ["dup_reimbursement", "late_upload"] for _, sc in labels)


def test_chronic_visits_bill_their_disease_range(con) -> None:
    """门诊慢特病 visits bill the disease's own drugs where the formulary has them (curated
    chronic_disease_drug); drugs outside the range are the labelled chronic_drug_scope lines only (signature)."""
    in_range = con.execute(
        """SELECT count(*) FROM fee_list_d f JOIN mdtrt_d m USING (mdtrt_id) JOIN c_chronic_disease_drug c
             ON starts_with(f.med_list_codg, coalesce(c.med_list_codg, c.code_prefix))
           WHERE m.med_type = '14'"""
    ).fetchone()[0]
    assert in_range > 0


def test_indicated_items_only_with_a_fitting_diagnosis(con) -> None:
    """Items limited to indications (curated item_indication) appear only on visits with a fitting diagnosis."""
    out = con.execute(
        """WITH ind AS (SELECT coalesce(med_list_codg, code_prefix) AS p, related_codg FROM c_item_indication),
           lines AS (SELECT DISTINCT f.feedetl_sn, f.mdtrt_id, i.p FROM fee_list_d f
                     JOIN ind i ON starts_with(f.med_list_codg, i.p) WHERE f.cnt > 0)
           SELECT l.feedetl_sn FROM lines l WHERE NOT EXISTS (
             SELECT 1 FROM diag_d d JOIN ind i ON i.p = l.p AND starts_with(d.diag_code, i.related_codg)
             WHERE d.mdtrt_id = l.mdtrt_id)"""
    ).fetchall()
    assert not out, out[:5]
