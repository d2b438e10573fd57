"""Profile one rule's query on a warehouse (read-only): wall time, rows, spill, and the costliest operators.

What a rule author checks after a rewrite (docs/performance.md): the same rows and amount, less time, no
nested loop or range join over the fee lines, and nothing spilled. `sql_text` profiles another version of the
query (e.g. the previous query.sql) on the same views and parameters, for a before/after comparison.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from fundguard.engine.duck import bound_params
from fundguard.engine.library import Library, Rule, load_library
from fundguard.engine.params import substitute
from fundguard.engine.screen import screening_views
from fundguard.engine.shared import materialize, shared_used
from fundguard.errors import FundguardError
from fundguard.warehouse import connect

# Join operators that are loops or range joins: fine over knowledge, a problem over fee lines.
LOOP_JOINS = ("NESTED_LOOP_JOIN", "PIECEWISE_MERGE_JOIN", "BLOCKWISE_NL_JOIN", "CROSS_PRODUCT")
_SHOWN_INFO = ("CTE Name", "Table", "Join Type", "Conditions", "Aggregates", "Groups", "Projections")


def _operators(node: dict[str, Any], out: list[dict[str, Any]]) -> None:
    info = {k: v for k, v in (node.get("extra_info") or {}).items() if k in _SHOWN_INFO}
    out.append(
        {
            "operator": node.get("operator_type") or node.get("type"),
            "seconds": round(float(node.get("operator_timing") or node.get("timing") or 0), 3),
            "rows": node.get("operator_cardinality") or node.get("intermediate_rows"),
            "info": info,
        }
    )
    for child in node.get("children") or []:
        _operators(child, out)


def prepare_rule_queries(
    con: duckdb.DuckDBPyConnection, rule: Rule, sql_texts: list[str | None], shared_seconds: dict[str, float]
) -> tuple[dict[str, Any], list[str]]:
    """Set up `con` as a full screen sees the warehouse (views over the data's whole period, parameters bound as of
    its end); return the bound parameters and each text (None = the rule's query.sql) with them substituted. The shared
    relations they read are filled first, as the screen fills them once for the whole family, so a rule's own time
    excludes them (`shared_seconds` gets their times)."""
    con.execute("SET preserve_insertion_order = false")  # as the screen runs it
    scope = screening_views(con, None, None, None)
    bound = bound_params(rule, scope.period_end or dt.date.today(), scope.admdvs)
    out = []
    for text in sql_texts:
        sql = substitute(text if text is not None else rule.query, bound)
        materialize(con, shared_used(sql), shared_seconds)
        out.append(sql)
    return bound, out


def profile_rule(
    warehouse: str | Path,
    code: str,
    sql_text: str | None = None,
    top: int = 10,
    library: Library | None = None,
) -> dict[str, Any]:
    """Run the rule's query twice (timed, then profiled) and summarise DuckDB's JSON profile."""
    library = library or load_library()
    if code not in library.rules:
        raise FundguardError(f"规则库中没有规则 {code}", f"no rule {code} in the library")
    rule = library.rules[code]
    con = connect(warehouse, read_only=True)
    try:
        shared_seconds: dict[str, float] = {}
        _, (sql,) = prepare_rule_queries(con, rule, [sql_text], shared_seconds)
        wrapped = f"SELECT count(*), coalesce(sum(violation_amount), 0) FROM ({sql}) q"
        t = time.perf_counter()
        rows, amount = con.execute(wrapped).fetchone()
        seconds = time.perf_counter() - t
        with tempfile.TemporaryDirectory(prefix="fg-profile-") as tmp:
            out = Path(tmp) / "profile.json"
            con.execute("PRAGMA enable_profiling = 'json'")
            con.execute(f"PRAGMA profiling_output = '{out}'")
            con.execute(wrapped).fetchall()
            con.execute("PRAGMA disable_profiling")
            prof = json.loads(out.read_text(encoding="utf-8"))
    finally:
        con.close()
    ops: list[dict[str, Any]] = []
    for root in prof.get("children") or prof.get("operator") or []:
        _operators(root, ops)
    io = prof.get("io") or {}
    return {
        "code": code,
        "query": "given" if sql_text is not None else "query.sql",
        "rows": int(rows),
        "amount": float(amount),
        "seconds": round(seconds, 3),
        "shared_seconds": shared_seconds,
        "spilled_bytes": int(io.get("total_bytes_written") or 0),
        "loop_joins": [o for o in ops if o["operator"] in LOOP_JOINS],
        "top_operators": sorted(ops, key=lambda o: -o["seconds"])[:top],
    }
