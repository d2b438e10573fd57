"""`fundguard bench` on a tiny region: the pandas baseline finds exactly what the SQL rules find.

Timing is not asserted (benchmarks measure it); the shape of the result and the agreement are.
"""

from __future__ import annotations

from pathlib import Path

from fundguard.engine import pandas_baseline
from fundguard.engine.bench import bench, write_result


def test_bench_small_region_pandas_agrees(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int, str]] = []
    result = bench(
        5000,
        engine="duckdb",
        source="synth",
        workdir=tmp_path,
        on_rule=lambda engine, done, total, rule, stat: seen.append((engine, done, total, rule.code)),
    )
    assert result["fee_lines"] >= 5000
    # progress: one call per rule, counted up to the library's size
    assert [s[1] for s in seen] == list(range(1, result["rules"] + 1)) and {s[2] for s in seen} == {result["rules"]}
    assert {s[0] for s in seen} == {"DuckDB"} and {s[3] for s in seen} == set(result["duckdb"]["rule_seconds"])
    d = result["duckdb"]
    assert d["findings"] > 0 and d["lines_per_second"] > 0
    # the screen's own CPU seconds, and the steal time of the machine over it (Linux: /proc/stat)
    assert d["cpu_seconds"] > 0 and d["steal_seconds"] is not None and d["steal_seconds"] >= 0
    assert set(pandas_baseline.RULES) <= set(d["rule_seconds"])
    p = result["pandas"]
    assert p["counts_match"], p["rules"]
    assert sum(r["findings"] for r in p["rules"].values()) > 0, "the baseline rules must find something to compare"
    assert p["seconds_with_load"] >= p["seconds"]
    path = write_result(result, tmp_path / "results")
    assert path.exists() and path.read_text(encoding="utf-8").startswith("{")
