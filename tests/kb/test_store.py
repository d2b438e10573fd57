"""Warehouse import: versions, idempotent re-import, built-in set, and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.kb import store
from fundguard.kb.types import KP_TYPES

from .conftest import FIXTURES, LIANGKU

UNSEEN = sorted(FIXTURES.glob("unseen_*.xlsx"))


def test_reimport_is_idempotent(con):
    s1 = store.import_files(con, UNSEEN, now=dt.datetime(2025, 1, 1, 8, 0, 0))
    rows1 = con.execute("SELECT kp_id, source_file FROM kb_point ORDER BY 1").fetchall()
    s2 = store.import_files(con, UNSEEN, now=dt.datetime(2025, 1, 2, 8, 0, 0))
    rows2 = con.execute("SELECT kp_id, source_file FROM kb_point ORDER BY 1").fetchall()
    assert rows1 == rows2 and len(rows1) == s1["rows"] == s2["rows"]
    assert s1["kb_version"] != s2["kb_version"] and s1["kb_version"].startswith("20250101T080000-")
    assert s1["kb_version"].split("-")[1] == s2["kb_version"].split("-")[1]  # same content, same hash
    assert {v for (v,) in con.execute("SELECT DISTINCT kb_version FROM kb_point").fetchall()} == {s2["kb_version"]}
    imports = con.execute("SELECT kb_version, source_file, layout, rows FROM kb_imports ORDER BY 1, 2").fetchall()
    assert len(imports) == 2 * len(UNSEEN)
    assert all(layout.startswith(("liangku:", "nrdl")) for _, _, layout, _ in imports)


def test_renamed_file_keeps_its_own_points(con, tmp_path):
    src = FIXTURES / "unseen_liangku_item_frequency.xlsx"
    copy = tmp_path / "本地频次补充.xlsx"
    copy.write_bytes(src.read_bytes())
    store.import_files(con, [src])
    store.import_files(con, [copy])
    files = dict(con.execute("SELECT source_file, count(*) FROM kb_point GROUP BY 1").fetchall())
    assert files == {src.name: 3, copy.name: 3}


@pytest.mark.slow
def test_builtin(builtin_db):
    con = duckdb.connect(str(builtin_db), read_only=True)
    s = store.summary(con)
    counts = {t["kp_type"]: t["count"] for t in s["kp_types"]}
    assert set(counts) <= set(KP_TYPES)
    for t in (
        "drug_gender",
        "drug_age",
        "item_dup_pair",
        "surgery_group",
        "drug_class",
        "drug_indication",
        "icd10",
        "icd9cm3",
        "drg_group",
        "drg_cc",
        "drg_cc_exclusion",
        "item_cycle",
        "item_course",
    ):
        assert counts.get(t, 0) > 0, t
    files = {i["file"] for i in s["imports"]}
    assert {p.name for p in LIANGKU.glob("*.xlsx")} <= files and "yao.xlsx" in files and "ZD_INFO.dat" in files
    assert con.execute("SELECT count(*) FROM kb_name_code").fetchone()[0] > 8000
    con.close()


def test_cli_import_list_show(tmp_path):
    wh = tmp_path / "cli.duckdb"
    runner = CliRunner()
    r = runner.invoke(app, ["kb", "import", *map(str, UNSEEN), "--warehouse", str(wh), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["ok"] and out["rows"] > 0
    r = runner.invoke(app, ["kb", "list", "--warehouse", str(wh), "--json"])
    listing = json.loads(r.stdout)
    by = {t["kp_type"]: t for t in listing["kp_types"]}
    assert by["item_dup_pair"]["count"] == 4
    assert by["item_dup_pair"]["sources"] == ["unseen_liangku_item_dup_pairs.xlsx"]
    assert by["item_dup_pair"]["versions"] == [out["kb_version"]]
    r = runner.invoke(app, ["kb", "show", "009901000010000", "--warehouse", str(wh), "--json"])
    shown = json.loads(r.stdout)
    assert shown["count"] == 2 and {p["related_codg"] for p in shown["points"]} == {
        "009901000020000",
        "009901000030000",
    }
    r = runner.invoke(app, ["kb", "show", "drug_course", "--warehouse", str(wh), "--json"])
    assert json.loads(r.stdout)["count"] == 3


def test_cli_rejects_bad_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["kb", "import", str(bad), "--warehouse", str(tmp_path / "w.duckdb")])
    assert r.exit_code == 2
    assert "无法识别的文件版式" in r.output and "unknown layout" in r.output
