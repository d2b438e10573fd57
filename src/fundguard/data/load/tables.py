"""Warehouse tables: creating them from the schema, the load log, and checksums to prove a load changed nothing."""

from __future__ import annotations

import duckdb

from fundguard.data import schema
from fundguard.warehouse import table_exists

LOAD_RUNS = "load_runs"

# One row per successful load. JSON columns hold table → value maps so new tables need no DDL change.
LOAD_RUNS_DDL = f"""CREATE TABLE IF NOT EXISTS {LOAD_RUNS} (
  run_id VARCHAR,
  started_at TIMESTAMP,
  finished_at TIMESTAMP,
  source VARCHAR,
  files VARCHAR,
  row_counts VARCHAR,
  inserted VARCHAR,
  replaced VARCHAR,
  input_checksum VARCHAR,
  fundguard_version VARCHAR
)"""


def ident(name: str) -> str:
    """Quote an identifier (extra columns come from file headers and may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema table (claims, reference, findings) and `load_runs`, empty, if missing."""
    for t in schema.ALL_TABLES.values():
        con.execute(t.ddl())
    con.execute(LOAD_RUNS_DDL)


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name"
    ).fetchall()
    return [r[0] for r in rows]


def table_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int | None]]:
    """(row count, order-independent hash of all rows) per warehouse table."""
    out: dict[str, tuple[int, int | None]] = {}
    for name in warehouse_tables(con):
        q = ident(name)
        n, h = con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {q} AS t").fetchone()
        out[name] = (int(n), None if h is None else int(h))
    return out


def row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    if not table_exists(con, name):
        return 0
    return int(con.execute(f"SELECT count(*) FROM {ident(name)}").fetchone()[0])
