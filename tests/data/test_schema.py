import re

from fundguard.data import codes, schema
from fundguard.data.scenarios import SCENARIOS


def test_every_reference_points_at_a_declared_column():
    for t in schema.ALL_TABLES.values():
        for c in t.columns:
            if c.ref:
                target_table, target_col = c.ref.split(".")
                assert target_col in schema.table(target_table).column_names, (t.name, c.name)


def test_primary_keys_and_code_tables_exist():
    for t in schema.ALL_TABLES.values():
        for k in t.primary_key:
            assert t.column(k).required, f"{t.name}.{k} is a key and must be required"
        for c in t.columns:
            if c.codes:
                assert c.codes in codes.ALL_CODE_TABLES, (t.name, c.name, c.codes)
            if c.pattern:
                re.compile(c.pattern)


def test_ddl_creates_every_table():
    import duckdb

    con = duckdb.connect()
    for t in schema.ALL_TABLES.values():
        con.execute(t.ddl())
        cols = [r[0] for r in con.execute(f"DESCRIBE {t.name}").fetchall()]
        assert cols == t.column_names


def test_hosp_lv_tier_maps_both_schemes():
    assert codes.hosp_lv_tier("02") == 3 and codes.hosp_lv_tier("1") == 3
    assert codes.hosp_lv_tier("06") == 2 and codes.hosp_lv_tier("2") == 2
    assert codes.hosp_lv_tier("09") == 1 and codes.hosp_lv_tier("3") == 1
    assert codes.hosp_lv_tier("11") == 0 and codes.hosp_lv_tier(None) == 0


def test_scenarios_cover_at_least_twenty_and_have_unique_ids():
    ids = [s.id for s in SCENARIOS]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)
    assert all(s.unit in {"line", "settlement", "visit", "person", "institution", "doctor"} for s in SCENARIOS)
