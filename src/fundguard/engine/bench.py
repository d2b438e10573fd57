"""`fundguard bench`: the full rule library over N generated fee lines, DuckDB (and Spark), vs pandas.

Data: the synthetic region generator (realistic, with injected violations) up to SYNTH_MAX_LINES,
beyond that the loader's plain bench generator (valid data written by DuckDB SQL in seconds).
Tables are read straight from Parquet into the warehouse (loading is measured by `fundguard load`);
knowledge = the built-in batches plus the region's kb/ files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from fundguard.data.fingerprints import keep_all_fingerprints
from fundguard.engine import pandas_baseline
from fundguard.engine.library import Rule, load_library
from fundguard.engine.screen import RuleStat, ScreenOptions, screen
from fundguard.engine.views import VIEW_TABLES

SYNTH_MAX_LINES = 2_000_000
BENCH_MEMORY_LIMIT = "6GB"
RESULTS_DIR = Path("bench-results")


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _steal_seconds() -> float | None:
    """CPU time the hypervisor gave to other guests since boot, all cores (/proc/stat `steal`; None off Linux).

    This machine's speed drifts by up to a third within an hour (docs/performance.md, round 6): the steal time
    over a run, next to the process's own CPU seconds, tells a slow machine from a slower library."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def generate(folder: Path, n_lines: int, source: str) -> str:
    if source == "auto":
        source = "synth" if n_lines <= SYNTH_MAX_LINES else "plain"
    if source == "synth":
        from fundguard.data.synth import generate as synth

        synth(folder, fee_lines=n_lines, fmt="parquet")
    else:
        from fundguard.data.load.benchdata import write_bench_region

        write_bench_region(folder, n_lines, fmt="parquet")
    return source


def build_warehouse(folder: Path, path: Path) -> dict[str, int]:
    from fundguard.kb.store import import_builtin, import_files

    con = duckdb.connect(str(path))
    # packed row groups, as the loader writes them (data/load/write.py): an order-keeping parallel insert leaves
    # part-filled ones that later checkpoints merge for 10-20 s each, inside the screen being measured
    con.execute("SET preserve_insertion_order = false")
    rows = {}
    try:
        for table in set(VIEW_TABLES.values()) - {"kb_point"}:
            f = folder / f"{table}.parquet"
            if f.exists():
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{f}')")
                rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        import_builtin(con)
        kb_dir = folder / "kb"
        if kb_dir.is_dir():
            files = sorted(p for p in kb_dir.iterdir() if p.is_file())
            if files:
                import_files(con, files)
        rows["kb_point"] = con.execute("SELECT count(*) FROM kb_point").fetchone()[0]
        # as `fundguard load` keeps them (decision 0020); counted in the build's time, not the screen's
        keep_all_fingerprints(con)
    finally:
        con.close()
    return rows


def _per_rule(path: Path) -> dict[str, tuple[int, float]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            r[0]: (int(r[1]), float(r[2]))
            for r in con.execute(
                "SELECT rule_code, count(*), coalesce(sum(violation_amount), 0) FROM findings GROUP BY 1"
            ).fetchall()
        }
    finally:
        con.close()


def bench(
    n_lines: int,
    engine: str = "duckdb",
    source: str = "auto",
    workdir: Path | None = None,
    with_pandas: bool = True,
    data: Path | None = None,
    on_rule: Callable[[str, int, int, Rule, RuleStat], None] | None = None,
) -> dict[str, Any]:
    """Measure; `data` = an existing folder written by `fundguard synth` (skips generation). `on_rule(engine,
    done, total, rule, stat)` after each rule (a 20M Spark run takes hours: show how far it is).

    DuckDB's default memory limit (80 % of RAM) got a 20M-line run OOM-killed on a shared machine; unless
    FUNDGUARD_DUCKDB_MEMORY_LIMIT is set, the bench caps DuckDB at BENCH_MEMORY_LIMIT and lets it spill.
    """
    os.environ.setdefault("FUNDGUARD_DUCKDB_MEMORY_LIMIT", BENCH_MEMORY_LIMIT)
    library = load_library()
    total = len(library.rules)

    def progress(engine_name: str) -> Callable[[Rule, RuleStat], None] | None:
        if on_rule is None:
            return None
        done = 0

        def step(rule: Rule, stat: RuleStat) -> None:
            nonlocal done
            done += 1
            on_rule(engine_name, done, total, rule, stat)

        return step

    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)  # a scratch folder named on the command line may not exist yet
    with tempfile.TemporaryDirectory(prefix="fg-bench-", dir=workdir) as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        region = Path(data) if data else tmp / "region"
        used = f"existing folder {data}" if data else generate(region, n_lines, source)
        gen_s = time.perf_counter() - t
        t = time.perf_counter()
        wh = tmp / "bench.duckdb"
        rows = build_warehouse(region, wh)
        build_s = time.perf_counter() - t
        out: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "fee_lines": rows.get("fee_list_d", 0),
            "requested_lines": n_lines,
            "data_source": used,
            "rows": rows,
            "rules": len(library.rules),
            "library_version": library.version,
            "cpu_count": os.cpu_count(),
            "generate_seconds": round(gen_s, 1),
            "warehouse_seconds": round(build_s, 1),
        }
        spark_wh = None
        if engine in ("spark", "both"):
            spark_wh = tmp / "bench-spark.duckdb"
            shutil.copy(wh, spark_wh)
        if engine in ("duckdb", "both"):
            t, cpu, steal = time.perf_counter(), _cpu_seconds(), _steal_seconds()
            res = screen(wh, ScreenOptions(full=True), library=library, on_rule=progress("DuckDB"))
            wall = time.perf_counter() - t
            steal_after = _steal_seconds()
            out["duckdb"] = {
                "wall_seconds": round(wall, 2),
                "cpu_seconds": round(_cpu_seconds() - cpu, 1),
                "steal_seconds": round(steal_after - steal, 1)
                if steal is not None and steal_after is not None
                else None,
                "lines_per_second": round(out["fee_lines"] / wall) if wall else None,
                "findings": res.n_findings,
                "amount": res.total_amount,
                "peak_rss_mb": _peak_rss_mb(),
                **_rule_times(res),
            }
            if with_pandas:
                con = duckdb.connect(str(wh), read_only=True)
                try:
                    pdres = pandas_baseline.run(con)
                finally:
                    con.close()
                # DuckDB's time for the compared rules: a screen of just them, one at a time, so that neither side
                # shares the cores (in the full run each rule's time is its wall time beside another rule: 0018);
                # the shared relations they read are filled in that screen and counted
                per_rule = _per_rule(wh)
                subset = screen(
                    wh, ScreenOptions(full=True, rules=list(pandas_baseline.RULES), workers=1), library=library
                )
                sql_s = sum(s.seconds for s in subset.stats) + sum(subset.shared_seconds.values())
                pdres["duckdb_seconds"] = round(sql_s, 3)
                # Both sides read the warehouse: DuckDB scans it inside each rule, pandas first copies the
                # columns it needs into frames. The headline ratio counts that read; compute-only is kept too.
                pd_total = pdres["load_seconds"] + pdres["seconds"]
                pdres["seconds_with_load"] = round(pd_total, 3)
                pdres["speedup"] = round(pd_total / sql_s, 1) if sql_s else None
                pdres["speedup_compute_only"] = round(pdres["seconds"] / sql_s, 1) if sql_s else None
                pdres["counts_match"] = all(
                    per_rule.get(c, (0, 0))[0] == pdres["rules"][c]["findings"] for c in pandas_baseline.RULES
                )
                pdres["peak_rss_mb"] = _peak_rss_mb()
                out["pandas"] = pdres
        if spark_wh is not None:
            t = time.perf_counter()
            res = screen(spark_wh, ScreenOptions(full=True, engine="spark"), library=library, on_rule=progress("Spark"))
            wall = time.perf_counter() - t
            out["spark"] = {
                "wall_seconds": round(wall, 2),
                "lines_per_second": round(out["fee_lines"] / wall) if wall else None,
                "findings": res.n_findings,
                "amount": res.total_amount,
                "note": "includes Spark start-up and the Parquet export of the warehouse",
                **_rule_times(res),
            }
            if engine == "both":
                a, b = _per_rule(wh), _per_rule(spark_wh)
                diff = {c: {"duckdb": a.get(c), "spark": b.get(c)} for c in set(a) | set(b) if a.get(c) != b.get(c)}
                out["engines_agree"] = not diff
                out["engine_differences"] = diff
    return out


def _rule_times(res) -> dict[str, Any]:
    """Per-rule and shared-relation seconds of a screen result, with the ten slowest rules first."""
    return {
        "slowest_rules": sorted(
            ({"code": s.code, "seconds": s.seconds} for s in res.stats), key=lambda r: -r["seconds"]
        )[:10],
        "rule_seconds": {s.code: s.seconds for s in res.stats},
        "shared_seconds": res.shared_seconds,
    }


def write_result(result: dict[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = result["date"].replace(":", "").replace("-", "")[:15]
    path = results_dir / f"bench-{result['fee_lines']}-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
