"""One warm evaluation context: an in-memory DuckDB with the knowledge, the rule views and the rule
queries prepared once, into which each request loads one person's history plus the incoming claim.

The rule views are the engine's (``view_definitions``), over small per-request tables with the
national names; the knowledge in force is a table refreshed only when the claim date changes. The
rules of a stage run as ONE prepared statement: the UNION ALL of their unchanged query.sql texts with
the parameter values in force (re-prepared only when a value changes, e.g. on an effective date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fundguard.engine.duck import bound_params, rule_query
from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.views import Scope, ddl, table_columns, view_definitions
from fundguard.realtime.history import PERSON_TABLES, REFERENCE_TABLES, open_store

# Per-request tables (emptied and refilled for each claim); the others stay empty in real time:
# their rules (进销存, 设备) are 事后 only.
CLAIM_TABLES = tuple(PERSON_TABLES)
EMPTY_TABLES = ("inventory_d", "medins_equip_d")
KB_IN_FORCE = "kb_in_force"
_RESULT_TYPES = {
    "feedetl_sn": "VARCHAR",
    "setl_id": "VARCHAR",
    "mdtrt_id": "VARCHAR",
    "psn_no": "VARCHAR",
    "fixmedins_code": "VARCHAR",
    "bilg_dr_codg": "VARCHAR",
    "med_list_codg": "VARCHAR",
    "occur_time": "TIMESTAMP",
    "violation_amount": "DECIMAL(16,2)",
    "message": "VARCHAR",
    "kp_id": "VARCHAR",
    "detail": "VARCHAR",
}
RESULT_COLUMNS = ("rule_code", *OUTPUT_COLUMNS)


@dataclass
class ClaimRows:
    """The incoming claim as rows of the national tables (column name -> value)."""

    psn_no: str
    fixmedins_code: str
    setl_id: str
    mdtrt_id: str
    as_of: dt.date
    tables: dict[str, list[dict[str, Any]]]
    # Replay: history only from settlements before this time (None: all the store holds).
    history_until: dt.datetime | None = None


class EvalContext:
    """Not thread-safe: one request at a time (the pool hands contexts out)."""

    def __init__(self, store: Path | str, rules: dict[str, Sequence[Rule]], region: str | None, threads: int = 1):
        self.rules = {stage: list(rs) for stage, rs in rules.items()}
        self.region = region
        self.con = open_store(store)
        con = self.con
        con.execute(f"SET threads={int(threads)}")
        con.execute("CREATE TABLE kb_point AS SELECT * FROM h.kb_point")
        con.execute(f"CREATE TABLE {KB_IN_FORCE} AS SELECT * FROM kb_point LIMIT 0")
        for table in REFERENCE_TABLES:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM h.{table}")
        for table in (*CLAIM_TABLES, *EMPTY_TABLES):
            con.execute(ddl(table))
        self._insert_sql = {t: self._insert_statement(t) for t in CLAIM_TABLES}
        present = {t: set(table_columns(t)) for t in (*CLAIM_TABLES, *EMPTY_TABLES, *REFERENCE_TABLES)}
        present["kb_point"] = {d[0] for d in con.execute("SELECT * FROM kb_point LIMIT 0").description}
        views, _ = view_definitions(
            lambda t: present.get(t),
            Scope(admdvs=region),
            source_name=lambda t: KB_IN_FORCE if t == "kb_point" else t,
        )
        for name, sql in views:
            con.execute(f"CREATE VIEW {name} AS {sql}")
        self._kb_date: dt.date | None = None
        self._prepared: dict[str, str] = {}  # signature of bound params -> statement name
        self._by_date: dict[tuple[str, dt.date], str] = {}  # (stage, claim date) -> statement name

    @staticmethod
    def _insert_statement(table: str) -> str:
        cols = list(table_columns(table))
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"

    def close(self) -> None:
        self.con.close()

    # -- knowledge -------------------------------------------------------------------------------
    def _knowledge_on(self, day: dt.date) -> None:
        """kb points valid on the claim date (batch: valid at some time in the screened period)."""
        if self._kb_date == day:
            return
        self.con.execute(f"DELETE FROM {KB_IN_FORCE}")
        self.con.execute(
            f"INSERT INTO {KB_IN_FORCE} SELECT * FROM kb_point "
            "WHERE (begndate IS NULL OR begndate <= ?) AND (enddate IS NULL OR enddate >= ?) ORDER BY kp_type",
            [day, day],
        )
        self._kb_date = day

    # -- data --------------------------------------------------------------------------------------
    def load(self, claim: ClaimRows) -> bool:
        """Fill the tables for one claim; False when the person is unknown (no psn_info row)."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for table in CLAIM_TABLES:
                con.execute(f"DELETE FROM {table}")
            self._load_history(claim)
            for table, rows in claim.tables.items():
                if not rows:
                    continue
                cols = list(table_columns(table))
                con.executemany(self._insert_sql[table], [[r.get(c) for c in cols] for r in rows])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self._knowledge_on(claim.as_of)
        return con.execute("SELECT count(*) FROM psn_info").fetchone()[0] > 0

    def _load_history(self, claim: ClaimRows) -> None:
        """The person's rows from the store, minus the incoming claim (and, when replaying, later data)."""
        con = self.con
        p = claim.psn_no
        incoming_psn = bool(claim.tables.get("psn_info"))
        if not incoming_psn:
            con.execute("INSERT INTO psn_info SELECT * FROM h.psn_info WHERE psn_no = ?", [p])
        until = claim.history_until
        setl_cond = "psn_no = ? AND setl_id <> ?"
        setl_args: list[Any] = [p, claim.setl_id]
        if until is not None:
            setl_cond += " AND setl_time < ?"
            setl_args.append(until)
        con.execute(f"INSERT INTO setl_d SELECT * FROM h.setl_d WHERE {setl_cond}", setl_args)
        fee_cols = ", ".join(table_columns("fee_list_d"))
        incoming_sn = [r["feedetl_sn"] for r in claim.tables.get("fee_list_d", [])]
        fee_sql = f"INSERT INTO fee_list_d SELECT {fee_cols} FROM h.fee_list_d WHERE psn_no = ? AND setl_id <> ?"
        args: list[Any] = [p, claim.setl_id]
        if until is not None:
            fee_sql += " AND (setl_id IN (SELECT setl_id FROM setl_d) OR fee_ocur_time < ?)"
            args.append(until)
        con.execute(fee_sql, args)
        if incoming_sn:
            con.execute("DELETE FROM fee_list_d WHERE list_contains(?, feedetl_sn)", [incoming_sn])
        mdtrt_sql = "INSERT INTO mdtrt_d SELECT * FROM h.mdtrt_d WHERE psn_no = ? AND mdtrt_id <> ?"
        margs: list[Any] = [p, claim.mdtrt_id]
        if until is not None:
            mdtrt_sql += " AND begntime < ?"
            margs.append(until)
        con.execute(mdtrt_sql, margs)
        for table in ("diag_d", "oprn_d"):
            cols = ", ".join(table_columns(table))
            con.execute(
                f"INSERT INTO {table} SELECT {cols} FROM h.{table} WHERE _psn_no = ? AND mdtrt_id <> ? "
                "AND mdtrt_id IN (SELECT mdtrt_id FROM mdtrt_d)",
                [p, claim.mdtrt_id],
            )

    # -- rules -------------------------------------------------------------------------------------
    def prepare(self, stage: str, as_of: dt.date) -> str:
        """The prepared UNION ALL of the stage's rules with the parameters in force on `as_of`."""
        name = self._by_date.get((stage, as_of))
        if name is None:
            name = self._by_date[(stage, as_of)] = self._prepare(self.rules[stage], as_of)
        return name

    def _prepare(self, rules: list[Rule], as_of: dt.date) -> str:
        parts: list[str] = []
        bound_all = []
        for rule in rules:
            bound = bound_params(rule, as_of, self.region)
            bound_all.append((rule.code, sorted(bound.items())))
            sql = rule_query(rule, bound)
            cols = ", ".join(f"CAST({c} AS {_RESULT_TYPES[c]}) AS {c}" for c in OUTPUT_COLUMNS)
            parts.append(f"SELECT '{rule.code}' AS rule_code, {cols} FROM (\n{sql}\n) AS r_{len(parts)}")
        sig = hashlib.sha1(repr(bound_all).encode()).hexdigest()[:16]
        name = self._prepared.get(sig)
        if name is None:
            name = f"rules_{sig}"
            self.con.execute(f"PREPARE {name} AS " + "\nUNION ALL\n".join(parts))
            self._prepared[sig] = name
        return name

    def run(self, stage: str, as_of: dt.date) -> list[dict[str, Any]]:
        if not self.rules.get(stage):
            return []
        cur = self.con.execute(f"EXECUTE {self.prepare(stage, as_of)}")
        return [dict(zip(RESULT_COLUMNS, row, strict=True)) for row in cur.fetchall()]
