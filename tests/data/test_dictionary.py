"""The data dictionary is generated from schema.py + codes.py, and the published copy is up to date."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.data import codes, schema
from fundguard.data.dictionary import render_markdown

DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "data-dictionary.md"
runner = CliRunner()


def test_published_dictionary_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-dictionary.md is stale: run `fundguard schema docs`"
    )


def test_dictionary_names_every_table_column_and_code():
    md = render_markdown()
    for t in schema.ALL_TABLES.values():
        assert f"### {t.name} {t.zh}" in md
        for c in t.columns:
            assert f"| `{c.name}` | {c.zh} |" in md
    for ct in codes.ALL_CODE_TABLES.values():
        for code, name in ct.codes.items():
            assert f"| `{code}` | {name} |" in md
    # Patterns with a pipe must not break the Markdown table.
    assert r"`(1\|2\|4\|5\|9)\d{3,5}`" in md


def test_schema_cli_list_show_and_docs(tmp_path: Path):
    r = runner.invoke(app, ["schema", "list", "--json"])
    assert r.exit_code == 0
    names = [t["name"] for t in json.loads(r.stdout)]
    assert names == list(schema.ALL_TABLES)

    r = runner.invoke(app, ["schema", "show", "fixmedins", "--json"])
    info = json.loads(r.stdout)
    hosp_lv = next(c for c in info["columns"] if c["name"] == "hosp_lv")
    assert hosp_lv["code_values"]["02"] == "三级甲等" and hosp_lv["code_values"]["1"] == "三级"

    out = tmp_path / "dd.md"
    assert runner.invoke(app, ["schema", "docs", "--out", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == render_markdown()
    assert runner.invoke(app, ["schema", "docs", "--out", str(out), "--check"]).exit_code == 0
    out.write_text("stale\n", encoding="utf-8")
    assert runner.invoke(app, ["schema", "docs", "--out", str(out), "--check"]).exit_code == 1

    r = runner.invoke(app, ["schema", "show", "no_such_table"])
    assert r.exit_code != 0
