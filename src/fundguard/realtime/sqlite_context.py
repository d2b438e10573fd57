"""The SQLite executor of a real-time pass (decision 0015): the same rule SQL, compiled once.

DuckDB binds and optimises every rule statement again on each run (15–25 ms of CPU even on one claim's
rows, docs/realtime-audit.md), so a pass of 12–19 rules could not finish in the 事中 budget. SQLite
compiles a statement once and keeps it in the connection's statement cache; on a pass's few hundred rows a
rule then runs in about a millisecond. The rules are not rewritten: each query.sql, its views and the shared
relations are translated by ``engine.sqlite_sql.to_sqlite`` (the golden cases of every 事前/事中 rule run on
SQLite against DuckDB in CI).

Layout of the in-memory SQLite database (every table in the national names, with SQLite type affinities
from the schema so that '12.50' is stored as a number and a code stays text):
- the store's ``fixmedins``, ``practitioner`` and ``kb_point``, copied once (DuckDB reads the store);
- ``kb_in_force``: the points valid on the pass's claim date, indexed by kp_type and code;
- per pass: the claim tables (history from the person store, minus the incoming claim, plus the claim),
  ``pass_fixmedins`` (the pass's institutions) and the shared relations as tables;
- the rule views over them (``engine.views``), as SQLite views.
Dates are ISO text ('2025-03-01'), times ISO text with a space ('2025-03-01 10:00:00').
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from fundguard.engine.duck import bound_params, rule_query
from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.shared import shared_relations
from fundguard.engine.sqlite_sql import EXACT_PLACES, affinity, as_time_text, connect, converter, to_sqlite
from fundguard.engine.views import table_columns
from fundguard.realtime.context import (
    CLAIM_TABLES,
    EMPTY_TABLES,
    KB_IN_FORCE,
    PASS_KEYS_SQL,
    PASS_MEDINS,
    PASS_MEDINS_SQL,
    RESULT_COLUMNS,
    ClaimRows,
    RuleContext,
)
from fundguard.realtime.history import REFERENCE_TABLES, open_persons, open_store
from fundguard.realtime.relevance import KbIndex

# indexes on the tables the rules join knowledge and masters from; the per-pass tables are a few hundred rows
_INDEXES = (
    f"CREATE INDEX {KB_IN_FORCE}_type ON {KB_IN_FORCE} (kp_type)",
    f"CREATE INDEX {KB_IN_FORCE}_code ON {KB_IN_FORCE} (med_list_codg)",
    f"CREATE INDEX {KB_IN_FORCE}_prefix ON {KB_IN_FORCE} (code_prefix)",
    f"CREATE INDEX {KB_IN_FORCE}_upper ON {KB_IN_FORCE} (upper(med_list_codg))",  # ICD codes in any case
    # the name-only points of kb_name_kp (rules/_shared): a few thousand of 120 000
    f"CREATE INDEX {KB_IN_FORCE}_name_only ON {KB_IN_FORCE} (kp_type) WHERE coalesce(med_list_codg, '') = '' "
    "AND coalesce(code_prefix, '') = '' AND coalesce(item_name, '') <> ''",
    "CREATE INDEX fixmedins_code ON fixmedins (fixmedins_code)",
    "CREATE INDEX practitioner_code ON practitioner (prac_code)",
)
_CENT = Decimal("0.01")


def _amount(v: Any) -> Decimal | None:
    """A computed float amount as DuckDB's DECIMAL(16, 2): binary noise removed, then half up to the cent."""
    if v is None:
        return None
    return Decimal(repr(round(float(v), EXACT_PLACES))).quantize(_CENT, ROUND_HALF_UP)


def _time(v: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(v) if isinstance(v, str) else v


def _earlier(rows: list[dict], by_psn: dict[str, ClaimRows], key: str, time_col: str) -> list[dict]:
    """History settlements or visits (`key` setl_id / mdtrt_id) of the pass's persons: not the incoming claim's
    and, when replaying (history_until), begun before it; a row without its key or time is not history."""

    def kept(r: dict, c: ClaimRows) -> bool:
        until = c.history_until
        return (
            r[key] is not None
            and r[key] != getattr(c, key)
            and (until is None or (r[time_col] is not None and r[time_col] < until))
        )

    return [r for r in rows if kept(r, by_psn[r["psn_no"]])]


class SqliteContext(RuleContext):
    """The SQLite executor. Not thread-safe: one pass at a time (the auditor's pool hands contexts out)."""

    def __init__(self, store: Path | str, rules: dict[str, Sequence[Rule]], region: str | None, prune: bool = True):
        super().__init__(rules, region, prune)
        self.con = open_store(store)  # DuckDB: the store, read-only, as the default catalog (the auditor's reads)
        self.con.execute("USE h")
        self._persons = open_persons(self.con, store)
        self.lite = connect(check_same_thread=False)
        lite = self.lite
        tables = (*CLAIM_TABLES, *EMPTY_TABLES, *REFERENCE_TABLES)
        self._types = {t: table_columns(t) for t in tables}
        kb_cols = {d[0]: str(d[1]) for d in self.con.execute("DESCRIBE h.kb_point").fetchall()}
        self._types["kb_point"] = kb_cols
        self._convert = {t: [converter(ty) for ty in cols.values()] for t, cols in self._types.items()}
        self._insert_sql = {
            t: f"INSERT INTO {t} VALUES ({', '.join('?' * len(cols))})" for t, cols in self._types.items()
        }
        for table, cols in self._types.items():
            lite.execute(self._ddl(table, cols))
        lite.execute(self._ddl(KB_IN_FORCE, kb_cols))
        lite.execute(self._ddl(PASS_MEDINS, self._types["fixmedins"]))
        lite.execute("CREATE TABLE _claims (psn_no TEXT, setl_id TEXT, mdtrt_id TEXT, until TEXT)")
        for table in ("kb_point", *REFERENCE_TABLES):
            cols = ", ".join(self._types[table])
            self._insert(table, self.con.execute(f"SELECT {cols} FROM h.{table}").fetchall())
        for sql in _INDEXES:
            lite.execute(sql)
        self._create_views({t: set(cols) for t, cols in self._types.items()}, to_sqlite)
        self._plan_for_small_passes()

    def _plan_for_small_passes(self) -> None:
        """Statistics for SQLite's planner: the knowledge and masters as they are (ANALYZE), every per-pass
        table as a few hundred rows. Without them SQLite assumes a million rows everywhere and scanned the
        122 000 knowledge points once per billed code instead of looking them up by the index."""
        lite = self.lite
        lite.execute("ANALYZE")
        small = [*CLAIM_TABLES, *EMPTY_TABLES, "_claims", PASS_MEDINS, *shared_relations()]
        lite.execute("DELETE FROM sqlite_stat1 WHERE tbl IN (" + ", ".join("?" * len(small)) + ")", small)
        lite.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, NULL, '200')", [(t,) for t in small])
        lite.execute("ANALYZE sqlite_schema")  # reload the statistics just written

    def _execute(self, sql: str) -> None:
        self.lite.execute(sql)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: a failed load leaves no half-filled pass (the connection is in autocommit mode)."""
        self.lite.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.lite.execute("ROLLBACK")
            raise
        self.lite.execute("COMMIT")

    @staticmethod
    def _ddl(table: str, cols: dict[str, str]) -> str:
        return f"CREATE TABLE {table} ({', '.join(f'{c} {affinity(t)}' for c, t in cols.items())})"

    def _insert(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        convert = self._convert[table]
        values = [[f(v) for f, v in zip(convert, row, strict=True)] for row in rows]
        if values:
            self.lite.executemany(self._insert_sql[table], values)

    def _insert_dicts(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        cols = list(self._types[table])
        self._insert(table, ([r.get(c) for c in cols] for r in rows))

    def close(self) -> None:
        self.lite.close()
        self.con.close()
        self._persons.close()

    # -- knowledge -------------------------------------------------------------------------------
    def knowledge_on(self, day: dt.date) -> None:
        """kb points valid on the claim date (batch: valid at some time in the screened period)."""
        if self._kb_date == day:
            return
        lite, iso = self.lite, day.isoformat()
        with self._transaction():
            lite.execute(f"DELETE FROM {KB_IN_FORCE}")
            lite.execute(
                f"INSERT INTO {KB_IN_FORCE} SELECT * FROM kb_point WHERE (begndate IS NULL OR begndate <= ?) "
                "AND (enddate IS NULL OR enddate >= ?) ORDER BY kp_type",
                [iso, iso],
            )
        lite.execute(f"ANALYZE {KB_IN_FORCE}")  # the planner's row counts: see _plan_for_small_passes
        marks = ", ".join("?" * len(self._keyed))
        self._kb_index = KbIndex.build(
            lite.execute(
                f"SELECT kp_type, med_list_codg, code_prefix, item_name, related_codg, related_name FROM {KB_IN_FORCE} "
                f"WHERE kp_type IN ({marks})",
                self._keyed,
            ).fetchall()
            if self._keyed
            else []
        )
        self._kb_date = day
        self._filled.clear()

    # -- data --------------------------------------------------------------------------------------
    def load(self, claims: Sequence[ClaimRows]) -> set[str]:
        """Fill the tables for a batch of claims of distinct persons; returns the persons known."""
        lite = self.lite
        with self._transaction():
            for table in (*CLAIM_TABLES, "_claims", PASS_MEDINS):
                lite.execute(f"DELETE FROM {table}")
            lite.executemany(
                "INSERT INTO _claims VALUES (?, ?, ?, ?)",
                [(c.psn_no, c.setl_id, c.mdtrt_id, as_time_text(c.history_until)) for c in claims],
            )
            self._load_history(claims)
            for table in CLAIM_TABLES:
                self._insert_dicts(table, (r for c in claims for r in c.tables.get(table, [])))
            lite.execute(PASS_MEDINS_SQL)
        self._filled.clear()
        self.knowledge_on(claims[0].as_of)  # a batch holds claims of one date
        self._read_pass_keys(lite.execute(PASS_KEYS_SQL).fetchall() if self.prune else [])
        return {r[0] for r in lite.execute("SELECT DISTINCT psn_no FROM psn_info").fetchall()}

    def _load_history(self, claims: Sequence[ClaimRows]) -> None:
        """The persons' rows from the person store, minus the incoming claims and (replay) later data —
        the exclusions of the DuckDB executor (EvalContext._load_history), in Python on a few hundred rows."""
        by_psn = {c.psn_no: c for c in claims}
        fetched = {t: rows.to_pylist() for t, rows in self._persons.fetch(sorted(by_psn)).items()}
        given = {c.psn_no for c in claims if c.tables.get("psn_info")}
        self._insert_dicts("psn_info", (r for r in fetched.get("psn_info", []) if r["psn_no"] not in given))
        setl = _earlier(fetched.get("setl_d", []), by_psn, "setl_id", "setl_time")
        self._insert_dicts("setl_d", setl)
        kept_setl = {r["setl_id"] for r in setl}
        incoming_sn = {r["feedetl_sn"] for c in claims for r in c.tables.get("fee_list_d", [])}
        self._insert_dicts(
            "fee_list_d",
            (
                r
                for r in fetched.get("fee_list_d", [])
                if (c := by_psn[r["psn_no"]])
                and r["setl_id"] is not None
                and r["setl_id"] != c.setl_id
                and (c.history_until is None or r["setl_id"] in kept_setl)
                and r["feedetl_sn"] not in incoming_sn
            ),
        )
        visits = _earlier(fetched.get("mdtrt_d", []), by_psn, "mdtrt_id", "begntime")
        self._insert_dicts("mdtrt_d", visits)
        kept_visits = {r["mdtrt_id"] for r in visits}
        for table in ("diag_d", "oprn_d"):
            self._insert_dicts(table, (r for r in fetched.get(table, []) if r["mdtrt_id"] in kept_visits))

    # -- rules -------------------------------------------------------------------------------------
    def _rule_sql(self, rule: Rule, as_of: dt.date) -> str:
        sql = to_sqlite(rule_query(rule, bound_params(rule, as_of, self.region)))
        cols = ", ".join(f"r.{c}" for c in OUTPUT_COLUMNS)
        return f"SELECT '{rule.code}' AS rule_code, {cols} FROM (\n{sql}\n) AS r"

    def run(self, stage: str, as_of: dt.date, codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The stage's rules (or those of `codes`), one compiled statement each."""
        by_code = self.prepare(stage, as_of)
        chosen = list(by_code) if codes is None else list(codes)
        self._fill_shared(chosen)
        out: list[dict[str, Any]] = []
        for code in chosen:
            for row in self.lite.execute(by_code[code]):
                r = dict(zip(RESULT_COLUMNS, row, strict=True))
                r["occur_time"] = _time(r["occur_time"])
                r["violation_amount"] = _amount(r["violation_amount"])
                out.append(r)
        return out
