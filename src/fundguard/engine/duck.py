"""Running rules on DuckDB: views over the warehouse tables, parameter binding, rule execution."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.params import bind, substitute
from fundguard.engine.views import Scope, ddl, view_definitions
from fundguard.errors import FundguardError


def present_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str] | None:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema IN ('main', 'temp')",
        [table],
    ).fetchall()
    return {r[0] for r in rows} or None


def create_views(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """(Re)create the rule views as TEMP views; missing tables become empty TEMP tables."""
    views, missing = view_definitions(lambda t: present_columns(con, t), scope)
    for table in missing:
        con.execute(ddl(table, temp=True))
    for name, sql in views:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")


def bound_params(rule: Rule, as_of: dt.date, admdvs: str | None, overrides: dict[str, Any] | None = None) -> dict:
    try:
        return bind(rule.params, as_of, admdvs, overrides)
    except LookupError as e:
        raise FundguardError(
            f"规则 {rule.code} 的参数在 {as_of} 无有效值：{e}", f"rule {rule.code}: no parameter value in force: {e}"
        ) from e
    except KeyError as e:
        raise FundguardError(f"规则 {rule.code} 没有参数 {e}", f"rule {rule.code} has no parameter {e}") from e


def rule_query(rule: Rule, bound: dict[str, Any]) -> str:
    return substitute(rule.query, bound)


def check_output(con: duckdb.DuckDBPyConnection, rule: Rule, sql: str) -> None:
    """The query must return exactly the contract's output columns."""
    try:
        cols = [d[0] for d in con.execute(f"DESCRIBE {sql}").fetchall()]
    except duckdb.Error as e:
        raise FundguardError(
            f"规则 {rule.code} 的 query.sql 无法执行：{e}", f"rule {rule.code}: query.sql fails on DuckDB: {e}"
        ) from e
    if sorted(cols) != sorted(OUTPUT_COLUMNS):
        missing = sorted(set(OUTPUT_COLUMNS) - set(cols))
        extra = sorted(set(cols) - set(OUTPUT_COLUMNS))
        raise FundguardError(
            f"规则 {rule.code} 的输出列不符合规范：缺少 {missing}，多出 {extra}",
            f"rule {rule.code}: output columns differ from the contract: missing {missing}, extra {extra}",
        )


def run_rule_rows(con: duckdb.DuckDBPyConnection, rule: Rule, bound: dict[str, Any]) -> list[dict]:
    """The rule's raw output rows (views must exist)."""
    sql = rule_query(rule, bound)
    check_output(con, rule, f"({sql})")
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
