"""Time variants of one rule's query alternately on one warehouse: wall and process CPU seconds per variant.

On a machine whose speed drifts (docs/performance.md, rounds 6–7) the minimum CPU seconds over alternating rounds
is the steadiest comparison found. Each variant writes its findings (as the screen does) and must give the same
count and amount as the first round of itself; compare those across variants in the output.

    python scripts/rule_ab.py WAREHOUSE GZ10000201002000 4 - old.sql     # '-' = the rule's current query.sql
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from fundguard.engine.findings import findings_sql
from fundguard.engine.library import load_library
from fundguard.engine.profile import prepare_rule_queries
from fundguard.warehouse import connect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("code", help="rule code, e.g. GZ10000201002000")
    parser.add_argument("rounds", type=int)
    parser.add_argument("variants", nargs="+", help="SQL files of the rule's query; '-' is its query.sql")
    args = parser.parse_args()
    rule = load_library().rules[args.code]
    con = connect(args.warehouse, read_only=True)
    texts = [None if v == "-" else Path(v).read_text(encoding="utf-8") for v in args.variants]
    bound, queries = prepare_rule_queries(con, rule, texts, {})  # as `fundguard rules profile` sets up
    sqls = [findings_sql(rule, q, bound, "R1", "bench", "2025-01-01 00:00:00", "duckdb") for q in queries]
    walls: dict[str, list[float]] = {v: [] for v in args.variants}
    cpus: dict[str, list[float]] = {v: [] for v in args.variants}
    results: dict[str, tuple] = {}
    for _ in range(args.rounds):
        for v, sql in zip(args.variants, sqls, strict=True):
            cpu, wall = time.process_time(), time.perf_counter()
            con.execute(f"CREATE OR REPLACE TEMP TABLE _ab AS {sql}")
            walls[v].append(time.perf_counter() - wall)
            cpus[v].append(time.process_time() - cpu)
            got = con.execute("SELECT count(*), coalesce(sum(violation_amount), 0) FROM _ab").fetchone()
            if results.setdefault(v, got) != got:
                raise SystemExit(f"{v}: findings differ between rounds: {results[v]} / {got}")
    for v in args.variants:
        print(
            f"{args.code} {v:30s} wall min {min(walls[v]):.2f} median {statistics.median(walls[v]):.2f}  "
            f"cpu min {min(cpus[v]):.2f} median {statistics.median(cpus[v]):.2f}  findings {results[v][0]} "
            f"amount {results[v][1]}"
        )


if __name__ == "__main__":
    main()
