"""Golden cases on Spark, batched: all cases of a rule run as one Spark job.

Every case's rows go into one set of Parquet files tagged with `_case` (only the tables the rule
reads); each case's views are inlined filtered on its tag, and the rule query is run once per case
inside a single UNION ALL. The shared relations the rule reads are computed first, for all cases in one
job each (tagged the same way), and read from there: inlined into every reference of every case, a
knowledge-family rule's plan held ~130 exchanges per case and six cases exhausted a 4 GB driver.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from fundguard.engine.cases import Case, case_as_of, case_scope, load_case_tables
from fundguard.engine.duck import bound_params
from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.shared import rule_shared
from fundguard.engine.spark import rule_spark_sql, rule_views, shared_spark_sql, view_sources
from fundguard.engine.views import VIEW_TABLES


def run_cases_spark(spark, rule: Rule, cases: list[Case], workdir: Path | None = None) -> dict[int, list[dict]]:
    """Rule output rows per case index (1-based), from one Spark job."""
    needed_views = rule_views(rule) | {"kb", "medins"}
    needed_tables = {VIEW_TABLES[v] for v in needed_views}
    tag = rule.code
    # Tiny data: one shuffle partition and no code generation (compiling costs more than it saves).
    tiny = {
        "spark.sql.shuffle.partitions": "1",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    }
    previous = {k: spark.conf.get(k, None) for k in tiny}
    for k, v in tiny.items():
        spark.conf.set(k, v)
    registered: list[str] = []  # temp views of this call, dropped at the end (the session serves the whole run)
    try:
        with tempfile.TemporaryDirectory(prefix="fg-golden-", dir=workdir) as tmp:
            present = _write_case_tables(spark, cases, needed_tables, Path(tmp), tag, registered)
            views = {
                i: view_sources(
                    case_scope(case),
                    present,
                    source=lambda t, i=i: f"(SELECT * FROM g_{tag}_{t} WHERE _case = {i}) AS s",
                    only=needed_views,
                )
                for i, case in enumerate(cases, start=1)
            }
            for name in rule_shared(rule):
                _materialize_shared(spark, name, views, tag, registered)
            parts = []
            for i, case in enumerate(cases, start=1):
                bound = bound_params(rule, case_as_of(case), case.admdvs, case.params)
                q = rule_spark_sql(rule, bound, views[i])
                cols = ", ".join(f"q.{c}" for c in OUTPUT_COLUMNS)
                parts.append(f"SELECT {i} AS _case, {cols} FROM ({q}) q")
            rows = spark.sql("\nUNION ALL\n".join(parts)).collect()
    finally:
        for view in registered:
            spark.catalog.dropTempView(view)
        for k, v in previous.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)
    out: dict[int, list[dict]] = {i: [] for i in range(1, len(cases) + 1)}
    for r in rows:
        d = r.asDict()
        out[d.pop("_case")].append(d)
    return out


def _write_case_tables(
    spark, cases: list[Case], tables: set[str], tmp: Path, tag: str, registered: list[str]
) -> dict[str, set[str]]:
    """The cases' rows of `tables` as Parquet tagged with `_case`, registered as g_<tag>_<table>; their columns."""
    con = duckdb.connect()
    present: dict[str, set[str]] = {}
    try:
        for i, case in enumerate(cases, start=1):
            load_case_tables(con, case.tables, case_no=i)
        for table in sorted(tables):
            path = tmp / f"{table}.parquet"
            con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
            spark.read.parquet(str(path)).createOrReplaceTempView(f"g_{tag}_{table}")
            registered.append(f"g_{tag}_{table}")
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            present[table] = {c for c in cols if c != "_case"}
    finally:
        con.close()
    return present


def _materialize_shared(spark, name: str, views: dict[int, dict[str, str]], tag: str, registered: list[str]) -> None:
    """Shared relation `name` of every case in one job, kept by a local checkpoint on disk; each case's views
    then read it filtered on `_case` (later shared relations and the rule alike). On disk, not in the driver's
    memory: the checkpoints of a whole golden run held in memory left too little to build a broadcast late in the
    run (GZ10000103002000 failed with 'Not enough memory to build and broadcast the table')."""
    from pyspark.storagelevel import StorageLevel

    parts = [
        f"SELECT {i} AS _case, r.* FROM ({shared_spark_sql(name, case_views)}) r" for i, case_views in views.items()
    ]
    df = spark.sql("\nUNION ALL\n".join(parts)).localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY)
    relation = f"g_{tag}_shared_{name}"
    df.createOrReplaceTempView(relation)
    registered.append(relation)
    cols = ", ".join(c for c in df.columns if c != "_case")
    for i, case_views in views.items():
        case_views[name] = f"SELECT {cols} FROM {relation} WHERE _case = {i}"
