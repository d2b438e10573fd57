"""Running rules on Spark: the same views over Parquet, rule SQL translated by sqlglot.

A rule's query.sql (DuckDB dialect) is translated with sqlglot (read="duckdb", write="spark");
a hand-written spark.sql in the rule folder replaces the translation when sqlglot gets it wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from fundguard.engine.library import Rule
from fundguard.engine.params import substitute
from fundguard.engine.views import VIEW_TABLES, Scope, table_columns, view_definitions


def rename_tables(tree: exp.Expression, mapping: dict[str, str]) -> exp.Expression:
    """Point references to views at other names (keeping the old name as alias), skipping CTEs."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for t in list(tree.find_all(exp.Table)):
        name = t.name
        if name in mapping and name not in ctes and not t.args.get("db"):
            if not t.alias:
                t.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            t.set("this", exp.to_identifier(mapping[name]))
    return tree


def to_spark(sql: str, read: str = "duckdb", mapping: dict[str, str] | None = None) -> str:
    tree = sqlglot.parse_one(sql, read=read)
    if mapping:
        tree = rename_tables(tree, mapping)
    return tree.sql(dialect="spark")


def rule_spark_sql(rule: Rule, bound: dict[str, Any], mapping: dict[str, str] | None = None) -> str:
    """Spark SQL of a rule: its spark.sql override, else query.sql translated."""
    if rule.spark_query is not None:
        return to_spark(substitute(rule.spark_query, bound), read="spark", mapping=mapping)
    return to_spark(substitute(rule.query, bound), read="duckdb", mapping=mapping)


def register_parquet(spark, folder: Path) -> set[str]:
    """Temp views named after the source tables over `folder/<table>.parquet`; returns those found."""
    found = set()
    for table in VIEW_TABLES.values():
        path = Path(folder) / f"{table}.parquet"
        if path.exists():
            spark.read.parquet(str(path)).createOrReplaceTempView(table)
            found.add(table)
    return found


def _empty_select(table: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in table_columns(table).items())
    return f"SELECT {cols} FROM (SELECT 1 AS one) z WHERE 1 = 0"


def create_views(spark, scope: Scope, present: dict[str, set[str]], suffix: str = "", source=None) -> None:
    """Rule views in Spark; `present` maps source tables to their columns (absent → empty table)."""
    source = source or (lambda t: t)
    missing_sources = {t: f"({to_spark(_empty_select(t))}) AS e" for t in VIEW_TABLES.values() if t not in present}

    def src(t: str) -> str:
        return missing_sources.get(t) or source(t)

    views, _ = view_definitions(lambda t: present.get(t), scope, source_name=src, view_name=lambda v: v + suffix)
    for name, sql in views:
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {to_spark(sql)}")


def columns_of(spark, table: str) -> set[str]:
    return set(spark.table(table).columns)
