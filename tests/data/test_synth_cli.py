"""`fundguard synth` CLI: writes the region, reports a summary, rejects bad options bilingually."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fundguard.cli.main import app
from fundguard.data import schema
from fundguard.data.scenarios import SCENARIOS

runner = CliRunner()


def test_synth_cli_writes_every_table_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "r"
    res = runner.invoke(
        app, ["synth", "--out", str(out), "--persons", "1000", "--months", "2", "--seed", "3", "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["persons"] == 1000 and summary["months"] == 2
    for t in schema.CLAIMS_TABLES:
        assert (out / f"{t.name}.parquet").exists()
        assert summary["rows"][t.name] > 0
    assert (out / "ground_truth.parquet").exists() and (out / "kb" / "price_list.csv").exists()
    assert set(summary["labels"]) == {s.id for s in SCENARIOS}  # every scenario injected and labelled


def test_synth_cli_rejects_unknown_format(tmp_path: Path) -> None:
    res = runner.invoke(app, ["synth", "--out", str(tmp_path / "x"), "--format", "xlsx"])
    assert res.exit_code != 0
    assert "parquet" in str(res.exception) or "parquet" in res.output
    assert not (tmp_path / "x").exists()


def test_fee_lines_sets_the_number_of_persons() -> None:
    from fundguard.data.synth import persons_for_lines

    assert persons_for_lines(1_000_000) == round(1_000_000 / 28)
    assert persons_for_lines(20_000_000, months=6) == round(20_000_000 / 14)
    assert persons_for_lines(10) == 2000  # never below the demo size
