"""Synthetic region: determinism, schema conformance, amount identities, references, completeness."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from fundguard.data import schema
from fundguard.data.scenarios import SCENARIOS
from fundguard.data.synth import generate
from fundguard.data.synth.sink import arrow_schema

PERSONS = 1000
MONTHS = 4


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate(out, persons=PERSONS, seed=11, months=MONTHS)
    return out


@pytest.fixture(scope="module")
def con(region: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for t in (*schema.CLAIMS_TABLES,):
        c.execute(f"CREATE VIEW {t.name} AS SELECT * FROM read_parquet('{region / (t.name + '.parquet')}')")
    c.execute(f"CREATE VIEW ground_truth AS SELECT * FROM read_parquet('{region / 'ground_truth.parquet'}')")
    return c


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_files_other_seed_differs(region: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, persons=PERSONS, seed=11, months=MONTHS)
    assert _digest(again) == _digest(region)
    other = tmp_path / "other"
    generate(other, persons=PERSONS, seed=12, months=MONTHS)
    d1, d2 = _digest(region), _digest(other)
    assert d1.keys() == d2.keys()
    assert d1["fee_list_d.parquet"] != d2["fee_list_d.parquet"]
    assert d1["psn_info.parquet"] != d2["psn_info.parquet"]


def test_every_table_has_exactly_the_schema(region: Path) -> None:
    for t in schema.CLAIMS_TABLES:
        got = pq.read_schema(region / f"{t.name}.parquet")
        want = arrow_schema(t)
        assert got.names == t.column_names, t.name
        for f in want:
            assert got.field(f.name).type == f.type, (t.name, f.name)
        assert pq.read_metadata(region / f"{t.name}.parquet").num_rows > 0, t.name


def test_required_columns_never_null(con) -> None:
    for t in schema.CLAIMS_TABLES:
        for c in t.required_columns:
            n = con.execute(f"SELECT count(*) FROM {t.name} WHERE {c} IS NULL").fetchone()[0]
            assert n == 0, f"{t.name}.{c} has {n} nulls"


def test_codes_and_patterns_are_valid(con) -> None:
    import re

    from fundguard.data.codes import valid_codes_for

    for t in schema.CLAIMS_TABLES:
        for c in t.columns:
            if not (c.codes or c.pattern):
                continue
            values = [r[0] for r in con.execute(f"SELECT DISTINCT CAST({c.name} AS VARCHAR) FROM {t.name}").fetchall()]
            for v in values:
                if v is None:
                    continue
                if c.codes:
                    assert valid_codes_for(c.codes).is_valid(v), (t.name, c.name, v)
                if c.pattern:
                    assert re.fullmatch(c.pattern, v), (t.name, c.name, v)


def test_primary_keys_unique_and_references_resolve(con) -> None:
    for t in schema.CLAIMS_TABLES:
        keys = ", ".join(t.primary_key)
        dup = con.execute(
            f"SELECT count(*) FROM (SELECT {keys} FROM {t.name} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        assert dup[0] == 0, t.name
        for c in t.columns:
            if not c.ref:
                continue
            rt, rc = c.ref.split(".")
            missing = con.execute(
                f"SELECT count(*) FROM {t.name} a WHERE a.{c.name} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {rt} b WHERE b.{rc} = a.{c.name})"
            ).fetchone()[0]
            assert missing == 0, f"{t.name}.{c.name} → {c.ref}: {missing} unresolved"


def test_settlement_identities_hold_exactly(con) -> None:
    bad = con.execute(
        """
        SELECT
          count(*) FILTER (WHERE medfee_sumamt <> fund_pay_sumamt + psn_part_amt + hosp_part_amt),
          count(*) FILTER (WHERE psn_part_amt <> acct_pay + psn_cash_pay),
          count(*) FILTER (WHERE fund_pay_sumamt <> hifp_pay + cvlserv_pay + hifes_pay + hifmi_pay + hifob_pay
                                                   + maf_pay + oth_pay),
          count(*) FILTER (WHERE refd_setl_flag = '0' AND (psn_cash_pay < 0 OR acct_pay < 0 OR hifp_pay < 0))
        FROM setl_d
        """
    ).fetchone()
    assert bad == (0, 0, 0, 0)
    lines = con.execute(
        """
        WITH f AS (SELECT setl_id, sum(det_item_fee_sumamt) fee, sum(inscp_scp_amt) inscp,
                          sum(fulamt_ownpay_amt) ful, sum(preselfpay_amt) pre
                   FROM fee_list_d GROUP BY setl_id)
        SELECT count(*) FILTER (WHERE f.fee IS DISTINCT FROM s.medfee_sumamt),
               count(*) FILTER (WHERE f.inscp IS DISTINCT FROM s.inscp_scp_amt),
               count(*) FILTER (WHERE f.ful IS DISTINCT FROM s.fulamt_ownpay_amt),
               count(*) FILTER (WHERE f.pre IS DISTINCT FROM s.preselfpay_amt)
        FROM setl_d s LEFT JOIN f USING (setl_id)
        """
    ).fetchone()
    assert lines == (0, 0, 0, 0)
    line_id = con.execute(
        """SELECT count(*) FROM fee_list_d WHERE det_item_fee_sumamt <> fulamt_ownpay_amt + overlmt_amt
           + preselfpay_amt + inscp_scp_amt OR det_item_fee_sumamt <> round(cnt * pric, 2)"""
    ).fetchone()[0]
    assert line_id == 0


def test_refunds_reverse_their_originals(con) -> None:
    n_ref, bad = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE o.setl_id IS NULL OR r.medfee_sumamt <> -o.medfee_sumamt
                                          OR r.fund_pay_sumamt <> -o.fund_pay_sumamt OR r.setl_time < o.setl_time)
        FROM setl_d r LEFT JOIN setl_d o ON o.setl_id = r.init_setl_id
        WHERE r.refd_setl_flag = '1'
        """
    ).fetchone()
    assert n_ref > 0 and bad == 0
    orphan = con.execute(
        """SELECT count(*) FROM fee_list_d r LEFT JOIN fee_list_d o ON o.feedetl_sn = r.init_feedetl_sn
           WHERE r.init_feedetl_sn IS NOT NULL AND (o.feedetl_sn IS NULL OR r.cnt <> -o.cnt)"""
    ).fetchone()[0]
    assert orphan == 0


def test_region_looks_like_a_region(con) -> None:
    kinds = {r[0] for r in con.execute("SELECT DISTINCT medins_type FROM fixmedins").fetchall()}
    assert kinds >= {"A1", "B1", "B2", "C1", "D1"}
    tiers = {r[0] for r in con.execute("SELECT DISTINCT hosp_lv FROM fixmedins").fetchall()}
    assert tiers & {"02", "03"} and tiers & {"05", "06"} and tiers & {"08", "09", "10"} and "11" in tiers
    med_types = {r[0] for r in con.execute("SELECT DISTINCT med_type FROM setl_d").fetchall()}
    assert med_types >= {"11", "13", "14", "21", "41"}
    assert {r[0] for r in con.execute("SELECT DISTINCT insutype FROM psn_info").fetchall()} == {"310", "390"}
    assert con.execute("SELECT count(*) FROM psn_info WHERE die_date IS NOT NULL").fetchone()[0] > 0
    los = con.execute("SELECT avg(date_diff('day', begntime, endtime)) FROM mdtrt_d WHERE med_type = '21'").fetchone()[
        0
    ]
    assert 4 <= los <= 15
    # every drug sold at an institution in a month was bought there that month (except labelled 串换)
    assert con.execute("SELECT count(*) FROM inventory_d WHERE inv_type = '1'").fetchone()[0] > 0
    assert con.execute("SELECT count(DISTINCT prac_type) FROM practitioner").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM emp_clct_d WHERE psn_cnt <= 0 OR wage_base_sumamt <= 0").fetchone()[0] == 0


def test_every_scenario_labelled_with_its_unit_key(con) -> None:
    key = {
        "line": "feedetl_sn",
        "settlement": "setl_id",
        "visit": "mdtrt_id",
        "person": "psn_no",
        "institution": "fixmedins_code",
        "doctor": "bilg_dr_codg",
    }
    got = {r[0]: r[1] for r in con.execute("SELECT scenario, count(*) FROM ground_truth GROUP BY 1").fetchall()}
    for s in SCENARIOS:
        assert got.get(s.id, 0) >= 1, s.id
        rows = con.execute(
            f"SELECT unit, rule_codes, scenario_zh, {key[s.unit]}, amount_at_stake FROM ground_truth "
            f"WHERE scenario = '{s.id}'"
        ).fetchall()
        for unit, codes, zh, k, amount in rows:
            assert unit == s.unit and codes == ",".join(s.rule_codes) and zh == s.zh
            assert k is not None, s.id
            assert amount is not None and amount >= 0, s.id


def test_csv_format_writes_the_same_tables(tmp_path: Path) -> None:
    out = tmp_path / "csv"
    summary = generate(out, persons=PERSONS, seed=11, months=2, fmt="csv")
    for t in schema.CLAIMS_TABLES:
        header = (out / f"{t.name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.replace('"', "").split(",") == t.column_names
    assert (out / "ground_truth.csv").exists()
    assert (out / "kb" / "price_list.csv").exists()
    assert summary["rows"]["fee_list_d"] > 0
