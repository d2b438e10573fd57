"""Golden cases on Spark, batched: all cases of a rule run as one Spark job.

Every case's rows go into one set of Parquet files tagged with `_case`; each case gets its own
views (`fee_c3` …) filtered on its tag, and the rule query — translated, with its views renamed —
is run once per case inside a single UNION ALL.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from fundguard.engine.cases import Case, case_as_of, case_scope, load_case_tables
from fundguard.engine.duck import bound_params
from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.spark import create_views, rule_spark_sql
from fundguard.engine.views import VIEW_TABLES


def run_cases_spark(spark, rule: Rule, cases: list[Case], workdir: Path | None = None) -> dict[int, list[dict]]:
    """Rule output rows per case index (1-based), from one Spark job."""
    with tempfile.TemporaryDirectory(prefix="fg-golden-", dir=workdir) as tmp:
        con = duckdb.connect()
        try:
            for i, case in enumerate(cases, start=1):
                load_case_tables(con, case.tables, case_no=i)
            present: dict[str, set[str]] = {}
            tag = rule.code
            for table in VIEW_TABLES.values():
                path = Path(tmp) / f"{table}.parquet"
                con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
                spark.read.parquet(str(path)).createOrReplaceTempView(f"g_{tag}_{table}")
                present[table] = {c for c in spark.table(f"g_{tag}_{table}").columns if c != "_case"}
        finally:
            con.close()
        parts = []
        for i, case in enumerate(cases, start=1):
            suffix = f"_{tag}_c{i}"
            create_views(
                spark,
                case_scope(case),
                present,
                suffix=suffix,
                source=lambda t, i=i: f"(SELECT * FROM g_{tag}_{t} WHERE _case = {i}) AS s",
            )
            bound = bound_params(rule, case_as_of(case), case.admdvs, case.params)
            q = rule_spark_sql(rule, bound, mapping={v: v + suffix for v in VIEW_TABLES})
            cols = ", ".join(f"q.{c}" for c in OUTPUT_COLUMNS)
            parts.append(f"SELECT {i} AS _case, {cols} FROM ({q}) q")
        rows = spark.sql("\nUNION ALL\n".join(parts)).collect()
    out: dict[int, list[dict]] = {i: [] for i in range(1, len(cases) + 1)}
    for r in rows:
        d = r.asDict()
        out[d.pop("_case")].append(d)
    return out
