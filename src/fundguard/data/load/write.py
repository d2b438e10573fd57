"""Writing validated staging tables into the warehouse in one transaction (upsert by primary key)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import duckdb

import fundguard
from fundguard.data import schema
from fundguard.data.fingerprints import KeptDelta
from fundguard.data.load.tables import LOAD_RUNS, ensure_tables, ident


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ?", [table]
    ).fetchall()
    return {r[0] for r in rows}


def write(
    con: duckdb.DuckDBPyConnection,
    stages: dict[str, str],
    extras: dict[str, list[str]],
    run: dict,
    step: Callable[[str], None],
) -> tuple[dict[str, int], dict[str, int]]:
    """Delete-then-insert every staged table and log the run; all or nothing. Returns (inserted, replaced)."""
    inserted: dict[str, int] = {}
    replaced: dict[str, int] = {}
    # Warehouse tables have no row order. An order-keeping parallel INSERT leaves part-filled row groups, which every
    # later checkpoint merges 100 at a time: 10-20 s per checkpoint after a 20M-line load, paid by the next screens.
    # Without the order the row groups are packed at once, in the same insert time (docs/loading.md).
    keep_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("SET preserve_insertion_order = false")
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_tables(con)
        kept = KeptDelta(con)  # the visit fingerprints kept current as rows are replaced and inserted (decision 0020)
        for name in schema.LOAD_ORDER:
            if name not in stages:
                continue
            step(f"写入 {name} / writing {name}")
            t, stg = schema.table(name), stages[name]
            have = _existing_columns(con, name)
            for e in extras.get(name, []):
                if e not in have:
                    # Extra columns are kept as text: the warehouse grows a column, other loads leave it NULL.
                    con.execute(f"ALTER TABLE {ident(name)} ADD COLUMN {ident(e)} VARCHAR")
                    kept.column_added(name)
            on = " AND ".join(f"w.{ident(k)} = s.{ident(k)}" for k in t.primary_key)
            kept.rows(name, stg, on, -1)
            deleted = con.execute(f"DELETE FROM {ident(name)} AS w USING {stg} AS s WHERE {on}").fetchone()[0]
            cols = ", ".join(ident(c) for c in [*t.column_names, *extras.get(name, [])])
            total = con.execute(f"INSERT INTO {ident(name)} ({cols}) SELECT {cols} FROM {stg}").fetchone()[0]
            kept.rows(name, stg, on, 1)
            replaced[name] = int(deleted)
            inserted[name] = int(total) - int(deleted)
        kept.apply()
        con.execute(
            f"INSERT INTO {LOAD_RUNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run["run_id"],
                run["started_at"],
                datetime.now(),
                run["source"],
                json.dumps(run["files"], ensure_ascii=False),
                json.dumps(run["row_counts"]),
                json.dumps(inserted),
                json.dumps(replaced),
                run["input_checksum"],
                fundguard.__version__,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if keep_order else 'false'}")
    return inserted, replaced
