"""Per-file checks, each one SQL query over the whole file: required cells, types, code values, patterns,
then the typed staging table and duplicate primary keys."""

from __future__ import annotations

import duckdb

from fundguard.data import codes, schema
from fundguard.data.load.read import RawTable
from fundguard.data.load.result import Collector
from fundguard.data.load.tables import ident, literal
from fundguard.errors import Problem

# How each logical type is described when a cell does not convert.
TYPE_WORDS = {
    "int": ("整数", "an integer"),
    "bigint": ("整数", "an integer"),
    "date": ("日期（YYYY-MM-DD）", "a date (YYYY-MM-DD)"),
    "datetime": ("日期时间（YYYY-MM-DD HH:MM:SS）", "a date-time (YYYY-MM-DD HH:MM:SS)"),
    "amount": ("金额（数字，最多16位，保留2位小数）", "an amount (number, up to 16 digits, 2 decimals)"),
    "qty": ("数量（数字）", "a quantity (number)"),
    "price": ("单价（数字）", "a price (number)"),
    "ratio": ("比例（数字）", "a ratio (number)"),
}


def first_problems(con: duckdb.DuckDBPyConnection, out: Collector, check: str, query: str, make) -> None:
    """Run `query` (selecting _row, value, …) with its total, keep the first rows as problems."""
    rows = con.execute(
        f"SELECT count(*) OVER () AS _n, * FROM ({query}) ORDER BY _row LIMIT {out.max_per_check}"
    ).fetchall()
    if rows:
        out.add(check, int(rows[0][0]), [make(*r[1:]) for r in rows])


def bad_value(col: schema.Column, expr: str) -> str:
    """SQL true when text `expr` is not a value of the column's type."""
    cond = f"TRY_CAST({expr} AS {col.sql_type}) IS NULL"
    if col.type in ("int", "bigint"):
        # DuckDB would round '3.5' to 4: a count or sort number with a fraction is wrong data, not a rounding case.
        cond += f" OR NOT regexp_full_match({expr}, '[+-]?[0-9]+([.]0*)?')"
    return cond


def code_condition(col: schema.Column, expr: str) -> str:
    """SQL that is true when `expr` is a valid value of the column's code table."""
    ct = codes.valid_codes_for(col.codes)
    values = sorted({*ct.codes, *ct.aliases})
    cond = f"{expr} IN ({', '.join(literal(v) for v in values)})"
    if ct.local_pattern:
        cond = f"({cond} OR regexp_full_match({expr}, {literal(ct.local_pattern)}))"
    return cond


def check_cells(con: duckdb.DuckDBPyConnection, raw: RawTable, out: Collector) -> None:
    table, file, name = raw.source.table, raw.source.name, raw.name
    for c in raw.columns:
        col = table.column(c)
        q = ident(c)
        if col.required:
            first_problems(
                con,
                out,
                "required",
                f"SELECT rowid + 1 AS _row FROM {name} WHERE {q} IS NULL",
                lambda row, col=col: Problem(
                    file, f"必填字段为空（{col.zh}）", "required field is empty", row=row, field=col.name
                ),
            )
        if col.type in TYPE_WORDS:
            zh, en = TYPE_WORDS[col.type]
            first_problems(
                con,
                out,
                "type",
                f"SELECT rowid + 1 AS _row, {q} FROM {name} WHERE {q} IS NOT NULL AND ({bad_value(col, q)})",
                lambda row, v, col=col, zh=zh, en=en: Problem(
                    file, f"无法识别为{zh}", f"not {en}", row=row, field=col.name, value=v
                ),
            )
        if col.codes:
            ct = codes.valid_codes_for(col.codes)
            first_problems(
                con,
                out,
                "code",
                f"SELECT rowid + 1 AS _row, {q} FROM {name} WHERE {q} IS NOT NULL AND NOT {code_condition(col, q)}",
                lambda row, v, col=col, ct=ct: Problem(
                    file,
                    f"代码值不在代码表「{ct.zh_name}」（{ct.name}）中",
                    f"value is not a code of table {ct.name}",
                    row=row,
                    field=col.name,
                    value=v,
                ),
            )
        if col.pattern:
            first_problems(
                con,
                out,
                "pattern",
                f"SELECT rowid + 1 AS _row, {q} FROM {name} "
                f"WHERE {q} IS NOT NULL AND NOT regexp_full_match({q}, {literal(col.pattern)})",
                lambda row, v, col=col: Problem(
                    file,
                    f"格式不符，应匹配 {col.pattern}",
                    f"does not match the pattern {col.pattern}",
                    row=row,
                    field=col.name,
                    value=v,
                ),
            )


def _typed(col: schema.Column, present: bool) -> str:
    q = ident(col.name)
    if not present:
        return f"CAST(NULL AS {col.sql_type}) AS {q}"
    if col.type in TYPE_WORDS:
        return f"TRY_CAST({q} AS {col.sql_type}) AS {q}"
    if col.codes and codes.valid_codes_for(col.codes).aliases:
        # Store the canonical code (chrgitm_lv '1' → '01') so rules compare one spelling.
        aliases = codes.valid_codes_for(col.codes).aliases
        cases = " ".join(f"WHEN {literal(a)} THEN {literal(c)}" for a, c in sorted(aliases.items()))
        return f"CASE {q} {cases} ELSE {q} END AS {q}"
    return q


def stage(con: duckdb.DuckDBPyConnection, raw: RawTable, stage_name: str) -> None:
    """Typed copy in schema column order, plus `_row` and the extra columns as text."""
    present = set(raw.columns)
    cols = [_typed(c, c.name in present) for c in raw.source.table.columns]
    cols += [ident(e) for e in raw.extras]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage_name} AS SELECT rowid + 1 AS _row, {', '.join(cols)} FROM {raw.name}"
    )


def check_primary_key(con: duckdb.DuckDBPyConnection, raw: RawTable, stage_name: str, out: Collector) -> None:
    table, file = raw.source.table, raw.source.name
    keys = ", ".join(ident(k) for k in table.primary_key)
    not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in table.primary_key)
    key_text = " || '|' || ".join(f"CAST({ident(k)} AS VARCHAR)" for k in table.primary_key)
    # Aggregate first (cheap), then look at the few duplicated keys only.
    query = f"""
        WITH dup AS (SELECT {keys} FROM {stage_name} WHERE {not_null} GROUP BY ALL HAVING count(*) > 1),
        rows AS (
            SELECT s._row, {key_text} AS _key, min(s._row) OVER (PARTITION BY {", ".join("s." + ident(k) for k in table.primary_key)}) AS _first
            FROM {stage_name} s SEMI JOIN dup USING ({keys})
        )
        SELECT _row, _key, _first FROM rows WHERE _row > _first"""
    pk = "+".join(table.primary_key)
    first_problems(
        con,
        out,
        "primary_key",
        query,
        lambda row, key, first: Problem(
            file,
            f"主键 {pk} 重复（与第{first}行相同）",
            f"duplicate primary key {pk} (same as row {first})",
            row=row,
            field=pk,
            value=key,
        ),
    )
