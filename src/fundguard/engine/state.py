"""Bookkeeping tables of the screen: runs, per-visit fingerprints and per-rule state (incremental).

Incremental scheme (docs/engine.md): each visit (mdtrt_id) has a fingerprint = sum of row hashes of
its mdtrt/setl/fee/diag/oprn rows. A line-local rule (object line/settlement/visit, not
needs_history) whose signature (library version, parameters, filters, reference tables, knowledge
in force) is unchanged since the run that stored the fingerprints re-screens only the visits whose
fingerprint changed (new, changed or removed). Every other rule re-screens the whole window.

Kept fingerprints: fundguard.data.fingerprints (decision 0020).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb

from fundguard.data.fingerprints import ensure_kept_tables
from fundguard.data.schema import FINDINGS
from fundguard.warehouse import table_exists

REFERENCE_TABLES = ("psn_info", "fixmedins", "practitioner", "medins_equip_d", "inventory_d")

SCREEN_RUNS_DDL = """CREATE TABLE IF NOT EXISTS screen_runs (
  run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR, engine VARCHAR,
  rules VARCHAR, period_from DATE, period_to DATE, as_of DATE, region VARCHAR, filters VARCHAR,
  library_version VARCHAR, rule_stats VARCHAR, n_findings BIGINT, total_amount DECIMAL(18,2),
  seconds DOUBLE, error VARCHAR
)"""
VISIT_STATE_DDL = "CREATE TABLE IF NOT EXISTS screen_visit_state (mdtrt_id VARCHAR, fp HUGEINT)"
META_DDL = "CREATE TABLE IF NOT EXISTS screen_meta (key VARCHAR, value VARCHAR)"
RULE_STATE_DDL = """CREATE TABLE IF NOT EXISTS screen_rule_state (
  rule_code VARCHAR, run_id VARCHAR, signature VARCHAR, fp_run_id VARCHAR
)"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(FINDINGS.ddl())
    con.execute(SCREEN_RUNS_DDL)
    con.execute(VISIT_STATE_DDL)
    con.execute(RULE_STATE_DDL)
    con.execute(META_DDL)
    ensure_kept_tables(con)


def compute_affected(con: duckdb.DuckDBPyConnection, fingerprints: str, into: str) -> int:
    """Table `into`(mdtrt_id): visits new, changed or gone since the stored fingerprints (`fingerprints`: the
    current ones, from compute_visit_fingerprints)."""
    con.execute(
        f"""CREATE OR REPLACE TABLE {into} AS
        SELECT coalesce(c.mdtrt_id, p.mdtrt_id) AS mdtrt_id
        FROM {fingerprints} c FULL OUTER JOIN screen_visit_state p ON c.mdtrt_id = p.mdtrt_id
        WHERE c.fp IS DISTINCT FROM p.fp"""
    )
    return con.execute(f"SELECT count(*) FROM {into}").fetchone()[0]


def store_visit_fingerprints(con: duckdb.DuckDBPyConnection, fingerprints: str, run_id: str) -> None:
    con.execute("DELETE FROM screen_visit_state")
    con.execute(f"INSERT INTO screen_visit_state SELECT mdtrt_id, fp FROM {fingerprints}")
    con.execute("DELETE FROM screen_meta WHERE key = 'fp_run_id'")
    con.execute("INSERT INTO screen_meta VALUES ('fp_run_id', ?)", [run_id])


def reference_fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    out = {}
    for t in REFERENCE_TABLES:
        if table_exists(con, t):
            n, h = con.execute(f"SELECT count(*), sum(CAST(hash(t) AS HUGEINT)) FROM {t} t").fetchone()
            out[t] = f"{n}:{h}"
    n, h = con.execute("SELECT count(*), sum(CAST(hash(k) AS HUGEINT)) FROM kb k").fetchone()
    out["kb"] = f"{n}:{h}"
    return out


def signature(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def rule_state(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    rows = con.execute("SELECT rule_code, signature, fp_run_id FROM screen_rule_state").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def last_fp_run(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT value FROM screen_meta WHERE key = 'fp_run_id'").fetchone()
    return row[0] if row else None


def store_rule_state(con: duckdb.DuckDBPyConnection, code: str, run_id: str, sig: str) -> None:
    con.execute("DELETE FROM screen_rule_state WHERE rule_code = ?", [code])
    con.execute("INSERT INTO screen_rule_state VALUES (?, ?, ?, ?)", [code, run_id, sig, run_id])
