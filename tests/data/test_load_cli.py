"""`fundguard load` through the CLI: exit codes, bilingual problem lines, --json and --report."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.data.load import table_checksums

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "load" / "region"
runner = CliRunner()


def _checksums(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return table_checksums(con)
    finally:
        con.close()


def _bad_copy(tmp_path: Path) -> Path:
    data = tmp_path / "bad"
    shutil.copytree(FIXTURES / "month1", data)
    p = data / "psn_info.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("1960-04-12", "1960-13-12"), encoding="utf-8")
    return data


def test_load_prints_summary_and_json(tmp_path: Path):
    db = tmp_path / "wh.duckdb"
    r = runner.invoke(app, ["load", str(FIXTURES / "month1"), "--warehouse", str(db), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["ok"] is True and body["row_counts"]["fee_list_d"] == 6
    r = runner.invoke(app, ["load", str(FIXTURES / "month2"), "-w", str(db), "-q"])
    assert r.exit_code == 0, r.output
    assert "加载完成" in r.stdout and "fee_list_d.parquet" in r.stdout


def test_bad_data_exits_non_zero_with_bilingual_report(tmp_path: Path):
    db = tmp_path / "wh.duckdb"
    assert runner.invoke(app, ["load", str(FIXTURES / "month1"), "-w", str(db), "-q"]).exit_code == 0
    before = _checksums(db)
    report = tmp_path / "problems.csv"
    r = runner.invoke(app, ["load", str(_bad_copy(tmp_path)), "-w", str(db), "-q", "--report", str(report)])
    assert r.exit_code == 1
    assert "psn_info.csv 第1行 字段 brdy：无法识别为日期（YYYY-MM-DD）（值：1960-13-12）" in r.output
    assert "psn_info.csv row 1 field brdy: not a date (YYYY-MM-DD) (value: 1960-13-12)" in r.output
    assert "仓库未作任何修改" in r.output
    with report.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [
        {
            "file": "psn_info.csv",
            "row": "1",
            "field": "brdy",
            "value": "1960-13-12",
            "reason_zh": "无法识别为日期（YYYY-MM-DD）",
            "reason_en": "not a date (YYYY-MM-DD)",
        }
    ]
    assert _checksums(db) == before


def test_terminal_list_is_capped_and_json_report_is_full(tmp_path: Path):
    data = tmp_path / "many"
    shutil.copytree(FIXTURES / "month1", data)
    p = data / "fee_list_d.csv"
    # Every line gets a bad fee time: 6 problems, 2 shown per check with --max-per-check, the count says 6.
    p.write_text(p.read_text(encoding="utf-8").replace(",2024-01-", ",2024/13/"), encoding="utf-8")
    report = tmp_path / "r.json"
    r = runner.invoke(
        app,
        ["load", str(data), "-w", str(tmp_path / "wh.duckdb"), "-q", "--report", str(report), "--max-per-check", "2"],
    )
    assert r.exit_code == 1
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["counts"] == {"type": 6} and body["total"] == 6 and len(body["problems"]) == 2
    assert "另有 4 处问题" in r.output and "4 more problems" in r.output
    assert not (tmp_path / "wh.duckdb").exists()


def test_json_output_of_a_rejected_load(tmp_path: Path):
    r = runner.invoke(app, ["load", str(_bad_copy(tmp_path)), "-w", str(tmp_path / "wh.duckdb"), "--json"])
    assert r.exit_code == 1
    body = json.loads(r.stdout)
    assert body["ok"] is False and body["problems"][0]["field"] == "brdy"


def test_bad_report_extension_fails_before_loading(tmp_path: Path):
    from fundguard.errors import FundguardError

    db = tmp_path / "wh.duckdb"
    r = runner.invoke(app, ["load", str(FIXTURES / "month1"), "-w", str(db), "--report", str(tmp_path / "r.txt")])
    assert r.exit_code != 0 and isinstance(r.exception, FundguardError)
    assert not db.exists()


def test_missing_folder_is_one_clear_problem(tmp_path: Path):
    r = runner.invoke(app, ["load", str(tmp_path / "nope"), "-w", str(tmp_path / "wh.duckdb"), "--json"])
    assert r.exit_code == 1
    body = json.loads(r.stdout)
    assert body["total"] == 1 and "数据目录不存在" in body["problems"][0]["reason_zh"]
    assert not (tmp_path / "wh.duckdb").exists()
