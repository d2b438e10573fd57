"""`fundguard bench` on a tiny region: the pandas baseline finds exactly what the SQL rules find.

Timing is not asserted (benchmarks measure it); the shape of the result and the agreement are.
"""

from __future__ import annotations

from pathlib import Path

from fundguard.engine import pandas_baseline
from fundguard.engine.bench import bench, write_result


def test_bench_small_region_pandas_agrees(tmp_path: Path) -> None:
    result = bench(5000, engine="duckdb", source="synth", workdir=tmp_path)
    assert result["fee_lines"] >= 5000
    d = result["duckdb"]
    assert d["findings"] > 0 and d["lines_per_second"] > 0
    assert set(pandas_baseline.RULES) <= set(d["rule_seconds"])
    p = result["pandas"]
    assert p["counts_match"], p["rules"]
    assert sum(r["findings"] for r in p["rules"].values()) > 0, "the baseline rules must find something to compare"
    assert p["seconds_with_load"] >= p["seconds"]
    path = write_result(result, tmp_path / "results")
    assert path.exists() and path.read_text(encoding="utf-8").startswith("{")
