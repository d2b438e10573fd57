import json

import duckdb
from typer.testing import CliRunner

from fundguard.cli.main import app

runner = CliRunner()


def test_screen_cli_json_and_export(tiny_warehouse, tmp_path):
    out = tmp_path / "f.csv"
    rules = "GZ10000301004000,GZ10000204001000"
    r = runner.invoke(app, ["screen", "-w", str(tiny_warehouse), "--rules", rules, "--export", str(out), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["n_findings"] == 2 and data["exported"] == 2 and data["region"] == "230100"
    assert out.read_text(encoding="utf-8").startswith("疑点ID,")
    con = duckdb.connect(str(tiny_warehouse))
    assert con.execute("SELECT count(*) FROM screen_runs WHERE status = 'ok'").fetchone()[0] == 1
    con.close()


def test_rules_list_json_and_show():
    r = runner.invoke(app, ["rules", "list", "--json"])
    assert r.exit_code == 0, r.output
    rules = {x["code"]: x for x in json.loads(r.stdout)["rules"]}
    split = rules["GZ10000204001000"]
    assert split["name"] == "分解住院" and split["params"]["max_interval_days"]["values"] == {"2020-01-01": 15}
    assert split["legal_basis"] and split["stages"] == ["事后"]
    r = runner.invoke(app, ["rules", "show", "GZ10000204001000"])
    assert r.exit_code == 0 and "分解住院" in r.stdout and "max_interval_days" in r.stdout


def test_rules_profile_matches_screen_and_compares_sql(tiny_warehouse, tmp_path):
    """`rules profile` reports the rows the screen finds, read-only; --sql profiles another version."""
    r = runner.invoke(app, ["rules", "profile", "GZ10000301004000", "-w", str(tiny_warehouse), "--json"])
    assert r.exit_code == 0, r.output
    prof = json.loads(r.stdout)
    assert prof["rows"] == 1 and prof["query"] == "query.sql" and prof["top_operators"]
    assert all(op["operator"] for op in prof["top_operators"])
    empty = tmp_path / "none.sql"
    empty.write_text(
        "SELECT feedetl_sn, setl_id, mdtrt_id, psn_no, fixmedins_code, bilg_dr_codg, med_list_codg, "
        "fee_ocur_time AS occur_time, amt AS violation_amount, '' AS message, '' AS kp_id, '' AS detail "
        "FROM fee WHERE false",
        encoding="utf-8",
    )
    r = runner.invoke(
        app, ["rules", "profile", "GZ10000301004000", "-w", str(tiny_warehouse), "--sql", str(empty), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rows"] == 0
    con = duckdb.connect(str(tiny_warehouse), read_only=True)
    tables = {t[0] for t in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert "findings" not in tables, "profiling must not write to the warehouse"


def test_rules_profile_fills_shared_relations_first(tiny_warehouse):
    """A rule of a shared-relation family is profiled as the screen runs it: its relations filled first, timed apart."""
    from fundguard.engine.library import load_library
    from fundguard.engine.shared import rule_shared

    code = "GZ10000101008000"  # reads kb_code_kp and kb_billed
    want = rule_shared(load_library().rules[code])
    assert want
    r = runner.invoke(app, ["rules", "profile", code, "-w", str(tiny_warehouse), "--json"])
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.stdout)["shared_seconds"]) == set(want)
    r = runner.invoke(app, ["rules", "profile", "FGX002", "-w", str(tiny_warehouse), "--json"])  # reads none
    assert json.loads(r.stdout)["shared_seconds"] == {}
