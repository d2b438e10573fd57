"""One warm evaluation context: an in-memory DuckDB with the knowledge, the rule views and the rule
queries bound once, into which each request loads one person's history plus the incoming claim.

The rule views are the engine's (``view_definitions``), over small per-request tables with the
national names; the knowledge in force is a table refreshed only when the claim date changes. Each
rule of a stage runs its unchanged query.sql with the parameter values in force on the claim date
(substituted once per date and cached).

Pruning: a pass runs only the rules that can fire on its claims — rules declaring
``realtime.requires_kb`` whose kp_types meet a code or name of the claims' visits (by the rule's
``kb_keys``) in the knowledge in force (``relevance.KbIndex``), plus every rule without that declaration; and of those, rules declaring
``realtime.requires_visit`` only when an incoming visit has all those facts (inpatient, operation …).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from fundguard.engine.duck import bound_params, rule_query
from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.shared import rule_shared, shared_relations
from fundguard.engine.views import Scope, ddl, table_columns, view_definitions
from fundguard.realtime.history import PERSON_TABLES, REFERENCE_TABLES, open_persons, open_store
from fundguard.realtime.relevance import ALL, KbIndex

# Per-request tables (emptied and refilled for each claim); the others stay empty in real time:
# their rules (进销存, 设备) are 事后 only.
CLAIM_TABLES = tuple(PERSON_TABLES)
EMPTY_TABLES = ("inventory_d", "medins_equip_d")
KB_IN_FORCE = "kb_in_force"
# The institutions of the loaded pass (its claims' and their histories'); the medins view reads this, not the
# region's whole register: a rule joining every institution to knowledge (药品限医疗机构级别: 879
# institutions x 1 507 points, 200 ms) then joins a handful. Rules join medins back to their rows' institution,
# so the findings are the batch ones.
PASS_MEDINS = "pass_fixmedins"
# Planning, not execution, is most of a rule statement's cost on one claim's rows (DuckDB's profile of
# GZ2025N009: bind 7.6 ms + optimize 10.1 ms, of which join ordering 5.2 ms, against 6.7 ms of execution;
# a PREPAREd statement is planned again on each EXECUTE). On tables this small any join order is fast, so
# the optimizers that cost most and buy nothing here are off: -15 % for all 77 事中 rules per claim, the
# same rows (docs/realtime-audit.md). Semantics never depend on optimizers.
LEAN_OPTIMIZERS_OFF = (
    "join_order",
    "statistics_propagation",
    "common_subplan",
    "common_subexpressions",
    "projection_pullup",
    "aggregate_reuse",
)
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
# One statement for what pruning needs: 'k' rows = every code and name of the pass's visits (incoming
# lines, earlier settlements of the same visits, diagnoses, operations, the main diagnosis), what a
# rule's knowledge join could meet; 'v' rows = facts of each incoming visit, read through the rule
# views (the same is_inpatient the rules see), and the same facts once more for each 医疗类别 its own lines or
# settlements carry (rules read a line's own 医疗类别 first: decision 0019). Plain SQL, run by both executors.
_VISIT_EXTRA_FACTS = """CASE WHEN EXISTS (SELECT 1 FROM oprn o WHERE o.mdtrt_id = m.mdtrt_id) THEN 'operation ' ELSE '' END
    || CASE WHEN EXISTS (SELECT 1 FROM psn p WHERE p.psn_no = m.psn_no AND p.die_date IS NOT NULL)
       THEN 'deceased ' ELSE '' END"""
PASS_KEYS_SQL = (
    """
SELECT 'k', med_list_codg, hilist_name FROM fee_list_d WHERE mdtrt_id IN (SELECT mdtrt_id FROM _claims)
UNION ALL SELECT 'k', diag_code, diag_name FROM diag_d WHERE mdtrt_id IN (SELECT mdtrt_id FROM _claims)
UNION ALL SELECT 'k', oprn_oprt_code, oprn_oprt_name FROM oprn_d WHERE mdtrt_id IN (SELECT mdtrt_id FROM _claims)
UNION ALL SELECT 'k', dscg_maindiag_code, dscg_maindiag_name FROM mdtrt_d WHERE mdtrt_id IN (SELECT mdtrt_id FROM _claims)
UNION ALL SELECT 'v', CASE WHEN m.is_inpatient THEN 'inpatient' ELSE 'outpatient' END,
    """
    + _VISIT_EXTRA_FACTS
    + """ || coalesce('med_type=' || m.med_type, '')
    FROM mdtrt m WHERE m.mdtrt_id IN (SELECT mdtrt_id FROM _claims)
UNION ALL SELECT 'v', CASE WHEN t.own_inpatient THEN 'inpatient' ELSE 'outpatient' END,
    """
    + _VISIT_EXTRA_FACTS
    + """ || 'med_type=' || t.med_type
    FROM (SELECT DISTINCT mdtrt_id, med_type, line_is_inpatient AS own_inpatient FROM fee
          WHERE med_type IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM _claims)
          UNION SELECT DISTINCT mdtrt_id, med_type, setl_is_inpatient FROM setl
          WHERE med_type IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM _claims)) t
    JOIN mdtrt m ON m.mdtrt_id = t.mdtrt_id
"""
)
# The institutions of the loaded pass, for PASS_MEDINS (both executors; plain SQL).
PASS_MEDINS_SQL = f"""INSERT INTO {PASS_MEDINS} SELECT * FROM fixmedins WHERE fixmedins_code IN (
    SELECT fixmedins_code FROM fee_list_d UNION SELECT fixmedins_code FROM setl_d
    UNION SELECT fixmedins_code FROM mdtrt_d)"""


def _text(v: Any) -> str | None:
    """A value as text DuckDB casts back exactly (ISO dates and times, plain decimals)."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


@dataclass
class ClaimRows:
    """The incoming claim as rows of the national tables (column name -> value)."""

    psn_no: str
    fixmedins_code: str
    setl_id: str
    mdtrt_id: str
    as_of: dt.date  # knowledge and parameters as in force on this day (Auditor.in_force_date of the claim date)
    tables: dict[str, list[dict[str, Any]]]
    # Replay: history only from settlements before this time (None: all the store holds).
    history_until: dt.datetime | None = None


class RuleContext:
    """What every executor of a pass shares: the stage's rules, pruning and the rule SQL per date.

    A subclass loads a pass (`load`, filling `_pass_keys`, `_visit_facts` and `_kb_index`), runs rules
    (`run`) and builds a rule's SQL (`_rule_sql`); `con` is a DuckDB connection with the store's
    `fixmedins` and `kb_point` (the auditor reads the institutions and knowledge dates from it)."""

    con: duckdb.DuckDBPyConnection

    def __init__(self, rules: dict[str, Sequence[Rule]], region: str | None, prune: bool = True):
        self.rules = {stage: list(rs) for stage, rs in rules.items()}
        self.prune = prune
        # kp_types some rule keys on: the only ones the relevance index needs
        self._keyed = sorted({kp for rs in self.rules.values() for r in rs for kp in r.requires_kb})
        self._kb_index = KbIndex()
        self._pass_keys: list[tuple] = []
        self._visit_facts: list[set[str]] = []
        self.region = region
        self._by_date: dict[tuple[str, dt.date], dict[str, str]] = {}  # (stage, claim date) -> code -> SQL
        self._rule_shared = {r.code: rule_shared(r) for rs in self.rules.values() for r in rs}
        self._shared_sql: dict[str, str] = {}  # shared relation -> its SQL in the executor's dialect
        self._filled: set[str] = set()  # shared relations filled for the loaded pass
        self._kb_date: dt.date | None = None

    def _execute(self, sql: str) -> None:
        """Run one statement on the pass database."""
        raise NotImplementedError

    def knowledge_on(self, day: dt.date) -> None:
        raise NotImplementedError

    def load(self, claims: Sequence[ClaimRows]) -> set[str]:
        raise NotImplementedError

    def run(self, stage: str, as_of: dt.date, codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _rule_sql(self, rule: Rule, as_of: dt.date) -> str:
        raise NotImplementedError

    # -- pruning -----------------------------------------------------------------------------------
    def relevant(self, stage: str) -> list[Rule]:
        """The stage's rules that can fire on the loaded pass (all of them when pruning is off)."""
        rules = self.rules[stage]
        if not self.prune:
            return list(rules)
        wanted = {kp for r in rules for kp in r.requires_kb}
        hit = self._kb_index.matched((k[0] for k in self._pass_keys), (k[1] for k in self._pass_keys), wanted)
        return [
            r
            for r in rules
            if (not r.requires_kb or any((kp, key) in hit for kp in r.requires_kb for key in (ALL, *r.kb_keys)))
            and (not (r.requires_visit or r.requires_med_type) or any(self._visit_ok(r, f) for f in self._visit_facts))
        ]

    @staticmethod
    def _visit_ok(rule: Rule, facts: set[str]) -> bool:
        """One incoming visit has every fact the rule requires and, if it names any, one of its med_types."""
        return facts.issuperset(rule.requires_visit) and (
            not rule.requires_med_type or any(f"med_type={t}" in facts for t in rule.requires_med_type)
        )

    def _read_pass_keys(self, rows: Sequence[tuple]) -> None:
        """Pruning's inputs from the rows of the pass-keys statement ('k' codes and names, 'v' visit facts)."""
        self._pass_keys = [r[1:] for r in rows if r[0] == "k"]
        self._visit_facts = [{r[1], *(r[2] or "").split()} for r in rows if r[0] == "v"]

    # -- views and shared relations ------------------------------------------------------------------
    def _create_views(self, present: dict[str, set[str]], translate: Callable[[str], str] = lambda sql: sql) -> None:
        """The rule views over the pass tables (knowledge: the points in force; institutions: the pass's), in the
        executor's dialect (`translate` from DuckDB's). A shared relation is a table refilled per pass
        (`_fill_shared`): as a view it was computed again in every rule statement reading it (+8-24 ms each,
        docs/performance.md round 3)."""
        views, _ = view_definitions(
            lambda t: present.get(t),
            Scope(admdvs=self.region),
            source_name=lambda t: {"kb_point": KB_IN_FORCE, "fixmedins": PASS_MEDINS}.get(t, t),
        )
        shared = shared_relations()
        for name, sql in views:
            self._execute(
                f"CREATE TABLE {name} AS SELECT * FROM ({translate(sql)}) LIMIT 0"
                if name in shared
                else f"CREATE VIEW {name} AS {translate(sql)}"
            )
        self._shared_sql = {name: translate(sql) for name, sql in shared.items()}

    def _fill_shared(self, codes: Sequence[str]) -> None:
        """Fill, from the loaded pass, the shared relations these rules read that are not filled yet
        (dependencies first: rule_shared lists them in creation order)."""
        needed = {n for c in codes for n in self._rule_shared.get(c, ())} - self._filled
        for name, sql in self._shared_sql.items():
            if name in needed:
                self._execute(f"DELETE FROM {name}")
                self._execute(f"INSERT INTO {name} {sql}")
                self._filled.add(name)

    def prepare(self, stage: str, as_of: dt.date) -> dict[str, str]:
        """The stage's rule SQL texts by rule code, with the parameters in force on `as_of` (cached per date)."""
        key = (stage, as_of)
        sqls = self._by_date.get(key)
        if sqls is None:
            sqls = self._by_date[key] = {r.code: self._rule_sql(r, as_of) for r in self.rules[stage]}
        return sqls


class EvalContext(RuleContext):
    """The DuckDB executor. Not thread-safe: one request at a time (the pool hands contexts out)."""

    def __init__(
        self,
        store: Path | str,
        rules: dict[str, Sequence[Rule]],
        region: str | None,
        threads: int = 1,
        parallel: int = 1,
        prune: bool = True,
    ):
        super().__init__(rules, region, prune)
        self.con = open_store(store)
        con = self.con
        self._persons = open_persons(con, store)
        con.execute(f"SET threads={int(threads)}")
        con.execute("CREATE TABLE kb_point AS SELECT * FROM h.kb_point")
        con.execute(f"CREATE TABLE {KB_IN_FORCE} AS SELECT * FROM kb_point LIMIT 0")
        for table in REFERENCE_TABLES:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM h.{table}")
        for table in (*CLAIM_TABLES, *EMPTY_TABLES):
            con.execute(ddl(table))
        con.execute(f"CREATE TABLE {PASS_MEDINS} AS SELECT * FROM fixmedins LIMIT 0")
        con.execute("CREATE TABLE _claims (psn_no VARCHAR, setl_id VARCHAR, mdtrt_id VARCHAR, until TIMESTAMP)")
        self._insert_sql = {t: self._insert_statement(t) for t in (*CLAIM_TABLES, "_claims")}
        present = {t: set(table_columns(t)) for t in (*CLAIM_TABLES, *EMPTY_TABLES, *REFERENCE_TABLES)}
        present["kb_point"] = {d[0] for d in con.execute("SELECT * FROM kb_point LIMIT 0").description}
        # plain tables of the in-memory database, not TEMP: the rule cursors are other connections
        self._create_views(present)
        self._cursors = [con.cursor() for _ in range(max(1, parallel))] if parallel > 1 else []
        for cur in self._cursors:  # rule-only connections
            cur.execute(f"SET disabled_optimizers = '{','.join(LEAN_OPTIMIZERS_OFF)}'")
        self._pool = ThreadPoolExecutor(len(self._cursors), thread_name_prefix="rules") if self._cursors else None

    @staticmethod
    def _insert_statement(table: str) -> str:
        """INSERT … SELECT from an all-text Arrow table `_rows`, cast to the column types in SQL
        (one statement per table instead of one per row)."""
        types = (
            {"psn_no": "VARCHAR", "setl_id": "VARCHAR", "mdtrt_id": "VARCHAR", "until": "TIMESTAMP"}
            if table == "_claims"
            else table_columns(table)
        )
        casts = ", ".join(f"CAST({c} AS {t})" for c, t in types.items())
        return f"INSERT INTO {table} ({', '.join(types)}) SELECT {casts} FROM _rows"

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        cols = list(self._columns(table))
        data = {c: pa.array([_text(r.get(c)) for r in rows], type=pa.string()) for c in cols}
        _rows = pa.table(data)  # noqa: F841 - read by DuckDB's replacement scan in the statement below
        self.con.execute(self._insert_sql[table])

    @staticmethod
    def _columns(table: str) -> list[str]:
        return ["psn_no", "setl_id", "mdtrt_id", "until"] if table == "_claims" else list(table_columns(table))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for cur in self._cursors:
            cur.close()
        self.con.close()
        self._persons.close()

    # -- knowledge -------------------------------------------------------------------------------
    def knowledge_on(self, day: dt.date) -> None:
        """kb points valid on the claim date (batch: valid at some time in the screened period)."""
        if self._kb_date == day:
            return
        self.con.execute(f"DELETE FROM {KB_IN_FORCE}")
        self.con.execute(
            f"INSERT INTO {KB_IN_FORCE} SELECT * FROM kb_point "
            "WHERE (begndate IS NULL OR begndate <= ?) AND (enddate IS NULL OR enddate >= ?) ORDER BY kp_type",
            [day, day],
        )
        self._kb_index = KbIndex.build(
            self.con.execute(
                f"SELECT kp_type, med_list_codg, code_prefix, item_name, related_codg, related_name FROM {KB_IN_FORCE} "
                "WHERE list_contains(?, kp_type)",
                [self._keyed],
            ).fetchall()
        )
        self._kb_date = day

    # -- data --------------------------------------------------------------------------------------
    def load(self, claims: Sequence[ClaimRows]) -> set[str]:
        """Fill the tables for a batch of claims of distinct persons; returns the persons known
        (a psn_info row from the store or the message)."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for table in (*CLAIM_TABLES, "_claims", PASS_MEDINS):
                con.execute(f"DELETE FROM {table}")
            self._insert(
                "_claims",
                [
                    {"psn_no": c.psn_no, "setl_id": c.setl_id, "mdtrt_id": c.mdtrt_id, "until": c.history_until}
                    for c in claims
                ],
            )
            self._load_history(claims)
            for table in CLAIM_TABLES:
                rows = [r for c in claims for r in c.tables.get(table, [])]
                if rows:
                    self._insert(table, rows)
            con.execute(PASS_MEDINS_SQL)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self._filled.clear()
        self.knowledge_on(claims[0].as_of)  # a batch holds claims of one date
        self._read_pass_keys(con.execute(PASS_KEYS_SQL).fetchall() if self.prune else [])
        return {r[0] for r in con.execute("SELECT DISTINCT psn_no FROM psn_info").fetchall()}

    def _load_history(self, claims: Sequence[ClaimRows]) -> None:
        """The persons' rows from the person store, minus the incoming claims (and, when replaying, later
        data): one look-up for the pass (person_store), then the same exclusions in SQL per table."""
        con = self.con
        persons = sorted({c.psn_no for c in claims})
        for table, rows in self._persons.fetch(persons).items():
            con.register(f"_h_{table}", rows)
        given = sorted({c.psn_no for c in claims if c.tables.get("psn_info")})
        psn_cols = ", ".join(table_columns("psn_info"))
        con.execute(
            f"INSERT INTO psn_info SELECT {psn_cols} FROM _h_psn_info WHERE NOT list_contains(?, psn_no)", [given]
        )
        setl_cols = ", ".join(f"s.{c}" for c in table_columns("setl_d"))
        con.execute(
            f"""INSERT INTO setl_d SELECT {setl_cols} FROM _h_setl_d s JOIN _claims c ON c.psn_no = s.psn_no
            WHERE s.setl_id <> c.setl_id AND (c.until IS NULL OR s.setl_time < c.until)"""
        )
        fee_cols = ", ".join(f"f.{c}" for c in table_columns("fee_list_d"))
        con.execute(
            f"""INSERT INTO fee_list_d SELECT {fee_cols} FROM _h_fee_list_d f JOIN _claims c ON c.psn_no = f.psn_no
            WHERE f.setl_id <> c.setl_id AND (c.until IS NULL OR f.setl_id IN (SELECT setl_id FROM setl_d))"""
        )
        incoming_sn = [r["feedetl_sn"] for c in claims for r in c.tables.get("fee_list_d", [])]
        if incoming_sn:
            con.execute("DELETE FROM fee_list_d WHERE list_contains(?, feedetl_sn)", [incoming_sn])
        mdtrt_cols = ", ".join(f"m.{c}" for c in table_columns("mdtrt_d"))
        con.execute(
            f"""INSERT INTO mdtrt_d SELECT {mdtrt_cols} FROM _h_mdtrt_d m JOIN _claims c ON c.psn_no = m.psn_no
            WHERE m.mdtrt_id <> c.mdtrt_id AND (c.until IS NULL OR m.begntime < c.until)"""
        )
        for table in ("diag_d", "oprn_d"):
            cols = ", ".join(table_columns(table))
            con.execute(
                f"INSERT INTO {table} SELECT {cols} FROM _h_{table} WHERE mdtrt_id IN (SELECT mdtrt_id FROM mdtrt_d)"
            )
        for table in self._persons.tables:
            con.unregister(f"_h_{table}")

    # -- rules -------------------------------------------------------------------------------------
    def _rule_sql(self, rule: Rule, as_of: dt.date) -> str:
        sql = rule_query(rule, bound_params(rule, as_of, self.region))
        cols = ", ".join(f"CAST({c} AS {_RESULT_TYPES[c]}) AS {c}" for c in OUTPUT_COLUMNS)
        return f"SELECT '{rule.code}' AS rule_code, {cols} FROM (\n{sql}\n) AS r"

    def run(self, stage: str, as_of: dt.date, codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The stage's rules (or those of `codes`), one statement each (one UNION ALL plans slower than
        its parts), spread over `parallel` cursors: DuckDB plans each statement on one core and releases
        the GIL."""
        by_code = self.prepare(stage, as_of)
        sqls = list(by_code.values()) if codes is None else [by_code[c] for c in codes]
        self._fill_shared(list(by_code) if codes is None else codes)
        if self._pool is None or len(sqls) < 2:
            # the history load reads the large store: it keeps every optimizer
            self.con.execute(f"SET disabled_optimizers = '{','.join(LEAN_OPTIMIZERS_OFF)}'")
            try:
                chunks = [self._exec(self.con, sqls)]
            finally:
                self.con.execute("RESET disabled_optimizers")
        else:
            parts = [sqls[i :: len(self._cursors)] for i in range(len(self._cursors))]
            chunks = list(self._pool.map(self._exec, self._cursors, parts))
        return [row for chunk in chunks for row in chunk]

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)

    @staticmethod
    def _exec(con: duckdb.DuckDBPyConnection, sqls: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for sql in sqls:
            for row in con.execute(sql).fetchall():
                out.append(dict(zip(RESULT_COLUMNS, row, strict=True)))
        return out
