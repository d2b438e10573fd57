"""A screening run: every selected rule over the warehouse, findings upserted, the run recorded.

The rules are computed first, outside any transaction, into an in-memory database attached for the run (on
DuckDB two rules at a time: engine/pool.py, decision 0018); the findings, rule states and visit fingerprints are
then written in one short transaction. A failure leaves the findings as they were and
records the failed run. Rerunning with the same data and library rewrites the same finding ids (idempotent).
Why not one transaction around everything: a TEMP table created inside an open DuckDB transaction (the shared
relations) made every rule reading it 2–3× slower (docs/decisions/0016-screen-computes-then-writes.md).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from fundguard.config import load_settings
from fundguard.data import fingerprints as visit_fp
from fundguard.engine import state
from fundguard.engine.duck import bound_params, check_output, create_views, rule_query
from fundguard.engine.findings import FINDING_COLUMNS, findings_sql
from fundguard.engine.library import Library, Rule, load_library
from fundguard.engine.pool import Job, run_jobs
from fundguard.engine.shared import link, materialize, rule_shared, shared_relations, unmaterialize
from fundguard.engine.views import Scope
from fundguard.warehouse import connect, table_exists

LINE_LOCAL_OBJECTS = ("line", "settlement", "visit")
_COLUMNS = ", ".join(FINDING_COLUMNS)  # the findings columns, in order, for SQL


@dataclass
class ScreenOptions:
    rules: list[str] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    fixmedins: list[str] | None = None
    admdvs: str | None = None
    as_of: dt.date | None = None
    engine: str = "duckdb"
    full: bool = False
    spark_master: str | None = None
    # Spark only: read the claims from this folder of <table>.parquet files instead of the warehouse tables.
    parquet_dir: Path | None = None
    # Approved region settings (rule_code → {enabled, params}); None = read them from the workflow store.
    region_settings: dict[str, dict] | None = None
    # DuckDB: rules computed at once (engine/pool.py); None = the `screen_workers` setting.
    workers: int | None = None


@dataclass
class RuleStat:
    code: str
    name: str
    mode: str  # full | incremental
    findings: int = 0  # written by this run (for incremental: in the re-screened visits)
    amount: float = 0.0
    total_findings: int = 0  # of the rule within the filters after the run
    total_amount: float = 0.0
    seconds: float = 0.0


@dataclass
class ScreenResult:
    run_id: str
    library_version: str
    engine: str
    period: tuple[dt.date | None, dt.date | None]
    as_of: dt.date
    region: str | None
    affected_visits: int | None
    stats: list[RuleStat] = field(default_factory=list)
    seconds: float = 0.0
    disabled: list[str] = field(default_factory=list)  # switched off for the region (approved setting)
    shared_seconds: dict[str, float] = field(default_factory=dict)  # shared relations filled (engine.shared)

    @property
    def n_findings(self) -> int:
        """Findings of the screened rules within the filters after the run."""
        return sum(s.total_findings for s in self.stats)

    @property
    def total_amount(self) -> float:
        return round(sum(s.total_amount for s in self.stats), 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "library_version": self.library_version,
            "engine": self.engine,
            "period_from": self.period[0],
            "period_to": self.period[1],
            "as_of": self.as_of,
            "region": self.region,
            "affected_visits": self.affected_visits,
            "disabled_rules": self.disabled,
            "n_findings": self.n_findings,
            "total_amount": self.total_amount,
            "seconds": round(self.seconds, 3),
            "shared_seconds": self.shared_seconds,
            "rules": [s.__dict__ for s in self.stats],
        }


def data_period(con: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    lo, hi = con.execute("SELECT min(fee_date), max(fee_date) FROM fee").fetchone()
    if lo is None:
        lo, hi = con.execute("SELECT min(CAST(setl_time AS DATE)), max(CAST(setl_time AS DATE)) FROM setl").fetchone()
    return lo, hi


def warehouse_region(con: duckdb.DuckDBPyConnection, explicit: str | None) -> str | None:
    """Region for parameter overrides: --admdvs, else config admdvs, else the institutions' one region."""
    if explicit:
        return explicit
    configured = load_settings().admdvs
    if configured:
        return configured
    rows = con.execute("SELECT DISTINCT admdvs FROM medins WHERE admdvs IS NOT NULL LIMIT 2").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def store_region_settings(region: str | None, on: dt.date) -> dict[str, dict]:
    """Approved four-eyes region settings from the workflow store (none when the store has no such table)."""
    if not region:
        return {}
    url = load_settings().store_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    from sqlalchemy import inspect

    from fundguard.store.db import Store
    from fundguard.store.rule_settings import active_overrides

    store = Store(url, auto_migrate=False)
    try:
        if not inspect(store.engine).has_table("rule_settings"):
            return {}
        with store.session() as s:
            return active_overrides(s, region, on)
    finally:
        store.dispose()


def findings_filter(opts: ScreenOptions, alias: str = "") -> str:
    """WHERE condition limiting findings to the requested institutions, region and period."""
    p = f"{alias}." if alias else ""
    conds = ["TRUE"]
    if opts.fixmedins:
        codes = ", ".join("'" + c.replace("'", "''") + "'" for c in opts.fixmedins)
        conds.append(f"{p}fixmedins_code IN ({codes})")
    if opts.admdvs:
        prefix = opts.admdvs.rstrip("0") or opts.admdvs
        conds.append(f"{p}admdvs LIKE '{prefix}%'")
    if opts.date_from:
        conds.append(f"({p}occur_time IS NULL OR {p}occur_time >= TIMESTAMP '{opts.date_from.isoformat()} 00:00:00')")
    if opts.date_to:
        end = opts.date_to + dt.timedelta(days=1)
        conds.append(f"({p}occur_time IS NULL OR {p}occur_time < TIMESTAMP '{end.isoformat()} 00:00:00')")
    return " AND ".join(conds)


def screening_views(
    con: duckdb.DuckDBPyConnection, date_from: dt.date | None, date_to: dt.date | None, admdvs: str | None
) -> Scope:
    """Create the rule views for a screen: the period defaults to the data's, the region as warehouse_region."""
    create_views(con, Scope())
    lo, hi = data_period(con)
    scope = Scope(period_start=date_from or lo, period_end=date_to or hi, admdvs=warehouse_region(con, admdvs))
    create_views(con, scope)
    return scope


def _new_run_id(started: dt.datetime) -> str:
    return started.strftime("R%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6]


def screen(
    warehouse: str | Path | None,
    opts: ScreenOptions,
    library: Library | None = None,
    on_rule: Callable[[Rule, RuleStat], None] | None = None,
    on_start: Callable[[list[Rule]], None] | None = None,
) -> ScreenResult:
    library = library or load_library()
    rules = library.select(opts.rules)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    run_id = _new_run_id(started)
    t0 = time.perf_counter()
    con = connect(warehouse)
    # the run's working tables (findings, fingerprints, shared relations), seen by every worker connection
    work = "fg_run_" + run_id.rsplit("-", 1)[-1]
    try:
        con.execute(f"ATTACH ':memory:' AS {work}")
        # Findings have no meaningful row order (exports sort explicitly); not keeping the scan order lets
        # DuckDB stream and spill large intermediate results with far less memory.
        con.execute("SET preserve_insertion_order = false")
        state.ensure_tables(con)
        scope = screening_views(con, opts.date_from, opts.date_to, opts.admdvs)
        period, region = (scope.period_start, scope.period_end), scope.admdvs
        as_of = opts.as_of or period[1] or started.date()
        result = ScreenResult(run_id, library.version, opts.engine, period, as_of, region, None)
        if on_start:
            on_start(rules)
        in_transaction = False
        try:
            plans = _compute(con, rules, opts, scope, result, started, on_rule, work)
            con.execute("BEGIN TRANSACTION")
            in_transaction = True
            _write(con, plans, opts, result, work)
            result.seconds = time.perf_counter() - t0
            _record_run(con, result, opts, started, "ok", None)
            con.execute("COMMIT")
        except Exception as e:
            if in_transaction:
                con.execute("ROLLBACK")
            result.seconds = time.perf_counter() - t0
            _record_run(con, result, opts, started, "failed", str(e))
            raise
        return result
    finally:
        try:
            con.execute(f"DETACH DATABASE IF EXISTS {work}")
        finally:
            con.close()


@dataclass
class _Plan:
    rule: Rule
    bound: dict[str, Any]
    signature: str
    mode: str  # full | incremental
    stat: RuleStat | None = None


def _plans(con: duckdb.DuckDBPyConnection, rules: list[Rule], opts: ScreenOptions, result: ScreenResult) -> list[_Plan]:
    """Per selected rule: its bound parameters, its signature and whether only the changed visits are screened."""
    refs = state.reference_fingerprint(con)
    previous = state.rule_state(con)
    last_run = state.last_fp_run(con)
    filters = {"fixmedins": opts.fixmedins, "admdvs": opts.admdvs, "from": opts.date_from, "to": opts.date_to}
    settings = opts.region_settings
    if settings is None:
        settings = store_region_settings(result.region, result.as_of)
    plans: list[_Plan] = []
    for rule in rules:
        setting = settings.get(rule.code, {})
        if setting.get("enabled") is False:
            result.disabled.append(rule.code)
            continue
        bound = bound_params(rule, result.as_of, result.region, setting.get("params") or None)
        sig = state.signature(
            {
                "lib": result.library_version,
                "rule": rule.code,
                "params": bound,
                "filters": filters,
                "refs": refs,
                "region": result.region,
                "engine": opts.engine,
            }
        )
        incremental = (
            not opts.full
            and opts.engine == "duckdb"
            and rule.object_type in LINE_LOCAL_OBJECTS
            and not rule.needs_history
            and previous.get(rule.code) == (sig, last_run)
            and last_run is not None
        )
        plans.append(_Plan(rule, bound, sig, "incremental" if incremental else "full"))
    return plans


def _compute(
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    opts: ScreenOptions,
    scope: Scope,
    result: ScreenResult,
    started: dt.datetime,
    on_rule: Callable[[Rule, RuleStat], None] | None,
    work: str,
) -> list[_Plan]:
    """Run every planned rule into `work`._run_new (the findings of this run) and compute the visit
    fingerprints into `work`._visit_fp; nothing persistent changes."""
    plans = _plans(con, rules, opts, result)
    fingerprints = f"{work}._visit_fp"
    pending = True  # the fingerprints are still to compute
    totals = f"{work}._visit_fp_totals"
    if any(p.mode == "incremental" for p in plans):  # the changed visits decide what those rules read
        visit_fp.current_visit_fingerprints(con, fingerprints, totals)
        result.affected_visits = state.compute_affected(con, fingerprints, f"{work}._affected")
        pending = False
    con.execute(f"CREATE TABLE {work}._run_new AS SELECT {_COLUMNS} FROM findings LIMIT 0")
    run = _RuleRun(result, opts, started.isoformat(sep=" "), f"{work}._run_new", on_rule)
    if opts.engine == "spark":
        _compute_spark(con, plans, scope, opts, run)
    elif _compute_duckdb(con, plans, scope, opts, run, work, fingerprints if pending else None):
        pending = False
    if pending:
        visit_fp.current_visit_fingerprints(con, fingerprints, totals)
    result.stats.extend(p.stat for p in plans if p.stat is not None)
    con.execute("DROP TABLE IF EXISTS _new")
    return plans


@dataclass
class _RuleRun:
    """What every rule of a run writes with: its findings go to `run_new`, its stat to `on_rule`."""

    result: ScreenResult
    opts: ScreenOptions
    detected: str
    run_new: str
    on_rule: Callable[[Rule, RuleStat], None] | None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def collect(self, con: duckdb.DuckDBPyConnection, plan: _Plan, seconds: float) -> None:
        """Append the rule's findings (TEMP table _new of `con`) to the run's and record its stat."""
        con.execute(f"INSERT INTO {self.run_new} ({_COLUMNS}) SELECT {_COLUMNS} FROM _new")
        n, amount = con.execute("SELECT count(*), coalesce(sum(violation_amount), 0) FROM _new").fetchone()
        plan.stat = RuleStat(
            plan.rule.code, plan.rule.name, plan.mode, int(n), float(amount), seconds=round(seconds, 3)
        )
        if self.on_rule:
            with self.lock:  # progress bars are not thread-safe
                self.on_rule(plan.rule, plan.stat)

    def duckdb_rule(self, con: duckdb.DuckDBPyConnection, plan: _Plan) -> None:
        t = time.perf_counter()
        query = rule_query(plan.rule, plan.bound)
        check_output(con, plan.rule, f"({query})")
        sql = findings_sql(
            plan.rule, query, plan.bound, self.result.run_id, self.result.library_version, self.detected, "duckdb"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _new AS SELECT * FROM ({sql}) n WHERE {findings_filter(self.opts, 'n')}"
        )
        self.collect(con, plan, time.perf_counter() - t)


def _compute_duckdb(
    con: duckdb.DuckDBPyConnection,
    plans: list[_Plan],
    scope: Scope,
    opts: ScreenOptions,
    run: _RuleRun,
    work: str,
    fingerprints: str | None,
) -> bool:
    """Each pass (full, then incremental over the changed visits) fills the shared relations its rules read,
    then runs its rules `screen_workers` at a time. `fingerprints`: a table to compute the visit fingerprints
    into as one more job of the first pass; whether that happened (not when no rule ran)."""
    workers = max(1, opts.workers or load_settings().screen_workers)
    hints = _last_seconds(con)
    filled: dict[str, float] = {}  # shared relations materialized in this pass
    fingerprints_done = False
    for mode_pass in ("full", "incremental"):
        todo = [p for p in plans if p.mode == mode_pass]
        if not todo:
            continue
        pass_scope = scope
        if mode_pass == "incremental":
            unmaterialize(con, filled, work)
            pass_scope = Scope(scope.period_start, scope.period_end, scope.admdvs, visit_table=f"{work}._affected")
            create_views(con, pass_scope)
        needed = {name for p in todo for name in rule_shared(p.rule)}
        materialize(con, [n for n in shared_relations() if n in needed], filled, into=work)
        for name, secs in filled.items():
            run.result.shared_seconds.setdefault(name if mode_pass == "full" else f"{name}(incremental)", secs)
        jobs = [Job(p.rule.code, partial(run.duckdb_rule, plan=p), hints.get(p.rule.code, 0.0)) for p in todo]
        if fingerprints is not None and not fingerprints_done:
            # first: hashing every row of five tables is the longest job at scale (≈ 2 s of both cores at 20M when the
            # kept fingerprints are current, ≈ 4–5 s when they must be computed)
            job = partial(
                visit_fp.current_visit_fingerprints, into=fingerprints, totals_into=f"{work}._visit_fp_totals"
            )
            jobs.append(Job("_visit_fp", job, float("inf")))
            fingerprints_done = True

        def setup(c: duckdb.DuckDBPyConnection, pass_scope: Scope = pass_scope) -> None:
            c.execute("SET preserve_insertion_order = false")
            create_views(c, pass_scope)
            link(c, filled, work)

        run_jobs(con, jobs, workers, setup)
    unmaterialize(con, filled, work)
    return fingerprints_done


def _last_seconds(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Each rule's seconds in the last successful DuckDB run: the order hint of the pool (longest first)."""
    row = con.execute(
        "SELECT rule_stats FROM screen_runs WHERE status = 'ok' AND engine = 'duckdb' AND rule_stats IS NOT NULL "
        "ORDER BY finished_at DESC LIMIT 1"
    ).fetchone()
    if not row:
        return {}
    return {s["code"]: float(s.get("seconds") or 0.0) for s in json.loads(row[0])}


def _compute_spark(
    con: duckdb.DuckDBPyConnection, plans: list[_Plan], scope: Scope, opts: ScreenOptions, run: _RuleRun
) -> None:
    """One rule after another on Spark (Spark parallelizes each rule itself); findings come back into DuckDB."""
    spark_ctx = _SparkContext(con, scope, opts)
    try:
        for mode_pass in ("full", "incremental"):
            for plan in [p for p in plans if p.mode == mode_pass]:
                run.result.shared_seconds.update(spark_ctx.write_shared(rule_shared(plan.rule)))
                t = time.perf_counter()
                spark_ctx.findings_into(
                    con, plan.rule, plan.bound, run.result.run_id, run.result.library_version, run.detected, opts
                )
                run.collect(con, plan, time.perf_counter() - t)
    finally:
        spark_ctx.close()


def _codes_in(plans: list[_Plan]) -> str:
    return ", ".join("'" + p.rule.code.replace("'", "''") + "'" for p in plans)


def _write(
    con: duckdb.DuckDBPyConnection, plans: list[_Plan], opts: ScreenOptions, result: ScreenResult, work: str
) -> None:
    """Replace the screened rules' findings within the filters by this run's (in the caller's transaction)."""
    where = findings_filter(opts)
    full = [p for p in plans if p.mode == "full"]
    incremental = [p for p in plans if p.mode == "incremental"]
    if full:
        con.execute(f"DELETE FROM findings WHERE rule_code IN ({_codes_in(full)}) AND {where}")
    if incremental:
        con.execute(
            f"DELETE FROM findings WHERE rule_code IN ({_codes_in(incremental)}) AND {where} "
            f"AND mdtrt_id IN (SELECT mdtrt_id FROM {work}._affected)"
        )
    # the same keys found again outside the filters' scope are one finding, now this run's
    con.execute(f"DELETE FROM findings WHERE finding_id IN (SELECT finding_id FROM {work}._run_new)")
    con.execute(f"INSERT INTO findings ({_COLUMNS}) SELECT {_COLUMNS} FROM {work}._run_new")
    if plans:
        totals = con.execute(
            f"SELECT rule_code, count(*), coalesce(sum(violation_amount), 0) FROM findings "
            f"WHERE rule_code IN ({_codes_in(plans)}) AND {where} GROUP BY rule_code"
        ).fetchall()
        by_code = {code: (int(n), float(amount)) for code, n, amount in totals}
        for p in plans:
            assert p.stat is not None
            p.stat.total_findings, p.stat.total_amount = by_code.get(p.rule.code, (0, 0.0))
            state.store_rule_state(con, p.rule.code, result.run_id, p.signature)
    state.store_visit_fingerprints(con, f"{work}._visit_fp", result.run_id)
    visit_fp.keep_computed_fingerprints(con, f"{work}._visit_fp", f"{work}._visit_fp_totals")


def _record_run(
    con: duckdb.DuckDBPyConnection,
    result: ScreenResult,
    opts: ScreenOptions,
    started: dt.datetime,
    status: str,
    error: str | None,
) -> None:
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    filters = {
        "rules": opts.rules,
        "fixmedins": opts.fixmedins,
        "admdvs": opts.admdvs,
        "full": opts.full,
        "from": opts.date_from,
        "to": opts.date_to,
        "as_of": opts.as_of,
    }
    con.execute(
        "INSERT INTO screen_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.run_id,
            started,
            finished,
            status,
            result.engine,
            json.dumps([s.code for s in result.stats] if status == "ok" else (opts.rules or []), ensure_ascii=False),
            result.period[0],
            result.period[1],
            result.as_of,
            result.region,
            json.dumps(filters, ensure_ascii=False, default=str),
            result.library_version,
            json.dumps([s.__dict__ for s in result.stats], ensure_ascii=False) if status == "ok" else None,
            result.n_findings,
            result.total_amount,
            round(result.seconds, 3),
            error,
        ],
    )


class _SparkContext:
    """Warehouse tables exported to Parquet once per run, read by Spark; findings come back as Arrow."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scope: Scope, opts: ScreenOptions):
        import tempfile

        from fundguard.engine.spark import register_parquet
        from fundguard.engine.spark_session import get_spark
        from fundguard.engine.views import VIEW_TABLES

        self.tmp = tempfile.TemporaryDirectory(prefix="fg-spark-")
        self.scope = scope
        folder = Path(self.tmp.name)
        for table in VIEW_TABLES.values():
            given = Path(opts.parquet_dir) / f"{table}.parquet" if opts.parquet_dir else None
            if given is not None and given.exists():
                continue
            if table_exists(con, table):  # e.g. kb_point lives in the warehouse
                con.execute(f"COPY {table} TO '{folder / (table + '.parquet')}' (FORMAT parquet)")
        self.spark = get_spark(opts.spark_master)
        self.present = register_parquet(self.spark, folder)
        if opts.parquet_dir:
            self.present.update(register_parquet(self.spark, Path(opts.parquet_dir)))
        self.shared: dict[str, str] = {}  # shared relation -> SELECT over its rows written once this run

    def findings_into(
        self,
        con: duckdb.DuckDBPyConnection,
        rule: Rule,
        bound: dict,
        run_id: str,
        lib: str,
        detected: str,
        opts: ScreenOptions,
    ) -> None:
        import sqlglot

        from fundguard.engine.spark import rule_spark_sql, view_sources

        views = {**view_sources(self.scope, self.present), **self.shared}
        query = rule_spark_sql(rule, bound, views)
        kb = sqlglot.transpile(views["kb"], read="duckdb", write="spark")[0]
        medins = sqlglot.transpile(views["medins"], read="duckdb", write="spark")[0]
        sql = findings_sql(
            rule, query, bound, run_id, lib, detected, "spark", kb_view=f"({kb})", medins_view=f"({medins})"
        )
        # Written as Parquet by the executors, not collected to the driver: a rule with ~750k findings and
        # their evidence exceeded spark.driver.maxResultSize (1 GB) at 20M lines.
        out = Path(self.tmp.name) / f"findings-{rule.code}"
        self.spark.sql(sql).write.mode("overwrite").parquet(str(out))
        # no rows: Spark may write no data file; an empty relation with the findings columns stands in
        empty = f"(SELECT {_COLUMNS} FROM findings LIMIT 0)"
        source = f"read_parquet('{out}/*.parquet')" if any(out.glob("*.parquet")) else empty
        con.execute(f"CREATE OR REPLACE TEMP TABLE _new AS SELECT * FROM {source} n WHERE {findings_filter(opts, 'n')}")
        shutil.rmtree(out, ignore_errors=True)

    def write_shared(self, names: list[str]) -> dict[str, float]:
        """The shared relations `names` (creation order) not yet written this run, each computed once and
        written as Parquet beside the tables, as the DuckDB screen fills them once (inlined into each rule
        instead, every rule of a family scanned the fee lines again for them); seconds per relation written."""
        from fundguard.engine.spark import shared_spark_sql, view_sources

        seconds = {}
        for name in names:
            if name in self.shared:
                continue
            t = time.perf_counter()
            views = {**view_sources(self.scope, self.present), **self.shared}
            self._write_one(name, self.spark.sql(shared_spark_sql(name, views)))
            seconds[name] = round(time.perf_counter() - t, 3)
        return seconds

    def _write_one(self, name: str, df) -> None:
        out = Path(self.tmp.name) / f"shared-{name}"
        df.write.mode("overwrite").parquet(str(out))
        # no rows: Spark may write no data file; an empty frame of the same schema stands in
        rows = (
            self.spark.read.parquet(str(out))
            if any(out.glob("*.parquet"))
            else self.spark.createDataFrame([], df.schema)
        )
        rows.createOrReplaceTempView(f"fg_shared_{name}")
        self.shared[name] = f"SELECT * FROM fg_shared_{name}"

    def close(self) -> None:
        self.tmp.cleanup()
