import json

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from fundguard.data.schema import FINDINGS
from fundguard.engine.export import export_findings
from fundguard.engine.screen import ScreenOptions, screen
from fundguard.errors import FundguardError


def _findings(path):
    con = duckdb.connect(str(path))
    try:
        return con.execute(
            "SELECT finding_id, rule_code, feedetl_sn, mdtrt_id, violation_amount, run_id FROM findings ORDER BY 1"
        ).fetchall()
    finally:
        con.close()


def test_screen_writes_one_finding_per_exemplar_with_evidence(tiny_warehouse, exemplar_library):
    result = screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    by_rule = {s.code: s for s in result.stats}
    assert {c: s.total_findings for c, s in by_rule.items()} == {
        "GZ10000301004000": 1,
        "GZ10000102012000": 1,
        "GZ10000204001000": 1,
        "ZB10000205001000": 1,
    }
    assert by_rule["GZ10000204001000"].total_amount == 900.0
    con = duckdb.connect(str(tiny_warehouse))
    cols = [d[0] for d in con.execute("SELECT * FROM findings LIMIT 0").description]
    assert cols == FINDINGS.column_names
    ev, admdvs, basis = con.execute(
        "SELECT evidence, admdvs, legal_basis FROM findings WHERE rule_code = 'GZ10000301004000'"
    ).fetchone()
    ev = json.loads(ev)
    assert ev["kp_id"] == "KPG" and ev["detail"] == "限定性别=女；患者性别=男"
    assert ev["knowledge_source"]["limit_value"] == "女" and "第三十八条" in ev["legal_basis"][0]
    assert admdvs == "230100" and "条例" in basis
    params = json.loads(con.execute("SELECT evidence FROM findings WHERE rule_code = 'GZ10000204001000'").fetchone()[0])
    assert params["params"] == {"diag_prefix_len": 3, "max_interval_days": 15}
    run = con.execute("SELECT status, n_findings, library_version, rule_stats FROM screen_runs").fetchone()
    con.close()
    assert run[0] == "ok" and run[1] == 4 and run[2] == exemplar_library.version
    assert len(json.loads(run[3])) == 4


def test_rerun_is_idempotent_and_incremental_rescreens_only_changed_visits(tiny_warehouse, exemplar_library):
    screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    first = _findings(tiny_warehouse)
    again = screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    assert [(f[0], f[4]) for f in _findings(tiny_warehouse)] == [(f[0], f[4]) for f in first]
    modes = {s.code: s.mode for s in again.stats}
    assert modes["GZ10000301004000"] == "incremental" and modes["GZ10000204001000"] == "full"
    assert again.affected_visits == 0
    # A new visit with a violating line arrives: only it is re-screened for line-local rules.
    con = duckdb.connect(str(tiny_warehouse))
    con.execute("INSERT INTO mdtrt_d SELECT * REPLACE ('O9' AS mdtrt_id) FROM mdtrt_d WHERE mdtrt_id = 'O1'")
    con.execute(
        "INSERT INTO fee_list_d SELECT * REPLACE ('G9' AS feedetl_sn, 'O9' AS mdtrt_id) FROM fee_list_d WHERE feedetl_sn = 'G1'"
    )
    con.close()
    third = screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    assert third.affected_visits == 1
    gender = next(s for s in third.stats if s.code == "GZ10000301004000")
    assert (gender.mode, gender.findings, gender.total_findings) == ("incremental", 1, 2)
    rows = _findings(tiny_warehouse)
    assert len(rows) == 5 and len({r[0] for r in rows}) == 5
    # --full gives the same findings
    screen(tiny_warehouse, ScreenOptions(full=True), library=exemplar_library)
    assert [r[:5] for r in _findings(tiny_warehouse)] == [r[:5] for r in rows]


def test_filters_limit_written_and_replaced_findings(tiny_warehouse, exemplar_library):
    screen(tiny_warehouse, ScreenOptions(fixmedins=["H00000000002"]), library=exemplar_library)
    assert {r[1] for r in _findings(tiny_warehouse)} == {"GZ10000301004000", "GZ10000102012000"}
    screen(tiny_warehouse, ScreenOptions(rules=["GZ10000204001000"]), library=exemplar_library)
    assert len(_findings(tiny_warehouse)) == 3
    from datetime import date

    screen(
        tiny_warehouse, ScreenOptions(date_from=date(2025, 3, 4), date_to=date(2025, 3, 4)), library=exemplar_library
    )
    assert {r[2] for r in _findings(tiny_warehouse) if r[1] == "GZ10000102012000"} == {"B1"}


def _screen_state(wh) -> tuple[list, list]:
    con = duckdb.connect(str(wh))
    try:
        rules = con.execute("SELECT * FROM screen_rule_state ORDER BY rule_code").fetchall()
        visits = con.execute("SELECT * FROM screen_visit_state ORDER BY mdtrt_id").fetchall()
        return rules, visits
    finally:
        con.close()


def test_failed_run_changes_nothing_and_is_recorded(tiny_warehouse, exemplar_library):
    screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    before = _findings(tiny_warehouse)
    states_before = _screen_state(tiny_warehouse)
    broken = exemplar_library.rules["ZB10000205001000"]
    exemplar_library.rules["ZB10000205001000"] = type(broken)(**{**broken.__dict__, "query": "SELECT 1 AS x"})
    with pytest.raises(FundguardError):
        screen(tiny_warehouse, ScreenOptions(full=True), library=exemplar_library)
    assert _findings(tiny_warehouse) == before
    assert _screen_state(tiny_warehouse) == states_before  # rule signatures and visit fingerprints too
    con = duckdb.connect(str(tiny_warehouse))
    assert sorted(r[0] for r in con.execute("SELECT status FROM screen_runs").fetchall()) == ["failed", "ok"]
    con.close()


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".xlsx"])
def test_export_formats(tiny_warehouse, exemplar_library, tmp_path, ext):
    screen(tiny_warehouse, ScreenOptions(), library=exemplar_library)
    out = tmp_path / f"findings{ext}"
    con = duckdb.connect(str(tiny_warehouse))
    n = export_findings(con, "TRUE", out)
    con.close()
    assert n == 4
    zh = [c.zh for c in FINDINGS.columns]
    if ext == ".csv":
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines[0].split(",")[:3] == zh[:3] and len(lines) == 5
    elif ext == ".parquet":
        t = pq.read_table(out)
        assert t.num_rows == 4 and t.column_names == FINDINGS.column_names
    else:
        ws = openpyxl.load_workbook(out).active
        header = [c.value for c in ws[1]]
        assert header == zh and ws.max_row == 5


def test_unknown_export_format(tiny_warehouse, tmp_path):
    con = duckdb.connect(str(tiny_warehouse))
    with pytest.raises(FundguardError):
        export_findings(con, "TRUE", tmp_path / "x.json")
    con.close()


def test_region_settings_switch_rules_off_and_change_parameters(tiny_warehouse, exemplar_library):
    settings = {
        "GZ10000301004000": {"enabled": False, "params": {}},
        "GZ10000204001000": {"enabled": True, "params": {"max_interval_days": 3}},
    }
    result = screen(tiny_warehouse, ScreenOptions(region_settings=settings), library=exemplar_library)
    assert result.disabled == ["GZ10000301004000"]
    codes = {s.code: s.total_findings for s in result.stats}
    assert "GZ10000301004000" not in codes and codes["GZ10000204001000"] == 0  # gap of 5 days > 3


def test_rules_at_once_or_one_after_another_give_the_same_findings(tiny_warehouse, exemplar_library, monkeypatch):
    # a connection held open shares the database instance with the screen's: it sees what the run attaches
    watcher = duckdb.connect(str(tiny_warehouse))
    try:
        results = {}
        for workers in ("1", "2"):
            monkeypatch.setenv("FUNDGUARD_SCREEN_WORKERS", workers)
            res = screen(tiny_warehouse, ScreenOptions(full=True), library=exemplar_library)
            results[workers] = (
                [(s.code, s.findings, s.amount, s.total_findings) for s in res.stats],
                sorted(watcher.execute("SELECT finding_id, rule_code, violation_amount FROM findings").fetchall()),
            )
            databases = {r[0] for r in watcher.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
            assert not any(d.startswith("fg_run_") for d in databases)  # the run's working database is detached
        assert results["1"] == results["2"] and len(results["2"][1]) == 4
        assert watcher.execute("SELECT count(*) FROM screen_visit_state").fetchone()[0] > 0
    finally:
        watcher.close()
