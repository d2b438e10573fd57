"""Running rules on Spark: the same views over Parquet, rule SQL translated by sqlglot.

A rule's query.sql (DuckDB dialect) is translated with sqlglot (read="duckdb", write="spark");
a hand-written spark.sql in the rule folder replaces the translation when sqlglot gets it wrong.
The views are inlined into the translated query as subqueries (one Spark call per rule, no
temp-view bookkeeping); their definitions are the ones DuckDB uses (engine.views).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from fundguard.engine.library import Rule
from fundguard.engine.params import substitute
from fundguard.engine.shared import shared_relations, shared_used
from fundguard.engine.views import VIEW_TABLES, Scope, table_columns, view_definitions


def _ctes(tree: exp.Expression) -> set[str]:
    return {c.alias_or_name for c in tree.find_all(exp.CTE)}


def used_views(sql: str, read: str = "duckdb") -> set[str]:
    """The rule views a query reads, directly or through the shared relations it reads."""
    tree = sqlglot.parse_one(sql, read=read)
    ctes = _ctes(tree)
    direct = {t.name for t in tree.find_all(exp.Table) if t.name in VIEW_TABLES and t.name not in ctes and not t.db}
    rels = shared_relations()
    for name in shared_used(sql, read):
        direct |= used_views(rels[name])
    return direct


def inline_views(tree: exp.Expression, views: dict[str, str]) -> exp.Expression:
    """Replace references to views by their defining SELECT (DuckDB dialect), keeping the alias; a shared
    relation's SELECT is inlined first and the views it reads are then inlined inside it."""
    parsed = {name: sqlglot.parse_one(sql, read="duckdb") for name, sql in views.items()}
    for _ in range(len(shared_relations()) + 1):  # each round inlines one more level of shared relations
        ctes = _ctes(tree)
        refs = [t for t in tree.find_all(exp.Table) if t.name in parsed and t.name not in ctes and not t.db]
        if not refs:
            break
        for t in refs:
            alias = t.alias or t.name
            t.replace(exp.Subquery(this=parsed[t.name].copy(), alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return tree


def rule_spark_sql(rule: Rule, bound: dict[str, Any], views: dict[str, str]) -> str:
    """Spark SQL of a rule with its views inlined: the spark.sql override, else query.sql translated."""
    if rule.spark_query is not None:
        tree = sqlglot.parse_one(substitute(rule.spark_query, bound), read="spark")
    else:
        tree = sqlglot.parse_one(substitute(rule.query, bound), read="duckdb")
    return _without_cte_hints(inline_views(tree, views)).sql(dialect="spark")


def _without_cte_hints(tree: exp.Expression) -> exp.Expression:
    """Drop `AS [NOT] MATERIALIZED` (a DuckDB planning hint Spark SQL has no syntax for)."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


def shared_spark_sql(name: str, views: dict[str, str]) -> str:
    """Spark SQL of shared relation `name` over `views` (which may map earlier shared relations to their rows)."""
    tree = inline_views(sqlglot.parse_one(shared_relations()[name], read="duckdb"), views)
    return _without_cte_hints(tree).sql(dialect="spark")


def rule_views(rule: Rule) -> set[str]:
    """The views a rule reads, directly or through shared relations."""
    if rule.spark_query is not None:
        return used_views(substitute_sample(rule, rule.spark_query), read="spark")
    return used_views(substitute_sample(rule, rule.query))


def substitute_sample(rule: Rule, sql: str) -> str:
    from fundguard.engine.library import sample_binding

    return substitute(sql, sample_binding(rule.params))


def empty_select(table: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in table_columns(table).items())
    return f"(SELECT {cols} FROM (SELECT 1 AS one) z WHERE 1 = 0) AS e"


def view_sources(
    scope: Scope, present: dict[str, set[str]], source=lambda t: t, only: set[str] | None = None
) -> dict[str, str]:
    """View name → defining SELECT; tables absent from `present` read as empty relations."""

    def src(t: str) -> str:
        return source(t) if t in present else empty_select(t)

    defs, _ = view_definitions(lambda t: present.get(t), scope, source_name=src)
    return {name: sql for name, sql in defs if only is None or name in only}


def register_parquet(spark, folder: Path, tables: set[str] | None = None) -> dict[str, set[str]]:
    """Temp views named after the source tables over `folder/<table>.parquet`; returns their columns."""
    found: dict[str, set[str]] = {}
    for table in VIEW_TABLES.values():
        if tables is not None and table not in tables:
            continue
        path = Path(folder) / f"{table}.parquet"
        if path.exists():
            df = spark.read.parquet(str(path))
            df.createOrReplaceTempView(table)
            found[table] = set(df.columns)
    return found
