"""Rule SQL for SQLite: the DuckDB-dialect query.sql translated by sqlglot, plus the few semantic fixes
SQLite needs (decision 0015).

SQLite is the 事中/事前 executor: a compiled SQLite statement is reused from the connection's statement
cache and runs on one claim's rows in well under a millisecond, where DuckDB binds and optimises every
statement again (15–25 ms each). The rules stay one text (query.sql); what differs between the dialects
is fixed here, in the translation, never in a rule:

- DECIMAL: SQLite has no exact decimals. A cast to DECIMAL(p, s) becomes ROUND(x, s) (DuckDB rounds the
  same way, half away from zero), and every sum, difference and product DuckDB computes exactly passes
  through fg_exact(), which rounds a float to 6 places (integers pass unchanged): a difference that is
  exactly 0.01 in DuckDB is then 0.01, not 0.010000000000001563, and compares as DuckDB does.
- Dates and times are ISO text ('2025-03-01', '2025-03-01 10:00:00'): casts become DATE()/DATETIME(),
  year()/month()/day()/hour() STRFTIME, date_diff counts calendar days or minutes as DuckDB does
  (boundaries crossed), date_trunc('month') (a timestamp) and last_day (a date) become date modifiers.
- CAST(x AS INTEGER) rounds (DuckDB) instead of truncating (SQLite); contains() is INSTR() > 0; chr() is
  CHAR(); CAST(x AS VARCHAR) of a DECIMAL(p, s) keeps its s places, as DuckDB prints it.
- LIKE is case-sensitive in DuckDB: connections running these statements set
  ``PRAGMA case_sensitive_like = ON`` (``connect``).

The golden cases of every 事前/事中 rule run on SQLite against DuckDB (tests/engine/test_sqlite_parity.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

# results DuckDB computes exactly on DECIMALs (a quotient and an average are DOUBLE there too)
_EXACT_IN_DUCKDB = (exp.Add, exp.Sub, exp.Mul, exp.Sum)
_PARTS = {exp.Year: "%Y", exp.Month: "%m", exp.Day: "%d"}
# places a float sum, difference or product keeps: DECIMAL(16, 2) x DECIMAL(16, 4) has 6
EXACT_PLACES = 6
EXACT_FN = "fg_exact"
_DECIMAL_SCALE = "fundguard_decimal_scale"  # node meta: this ROUND was a cast to DECIMAL(p, s)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _int(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("INTEGER"))


def _strftime(fmt: str, e: exp.Expression) -> exp.Expression:
    return _fn("STRFTIME", exp.Literal.string(fmt), e)


def _decimal_scale(dtype: exp.DataType) -> int | None:
    if dtype.this != exp.DataType.Type.DECIMAL:
        return None
    params = dtype.expressions
    return int(params[1].name) if len(params) > 1 else 0


def _unit(e: exp.Expression) -> str:
    unit = e.args.get("unit")
    return (unit.name if unit is not None else "day").lower()


def _date_diff(e: exp.DateDiff) -> exp.Expression:
    """DuckDB's date_diff counts boundaries crossed: calendar days between the dates, minutes between the
    minute-truncated times."""
    start, end = e.expression, e.this
    unit = _unit(e)
    if unit == "day":
        days = exp.Sub(this=_fn("JULIANDAY", _fn("DATE", end)), expression=_fn("JULIANDAY", _fn("DATE", start)))
        return _int(exp.Paren(this=days))
    if unit == "minute":
        fmt = "%Y-%m-%d %H:%M"
        span = exp.Sub(this=_fn("JULIANDAY", _strftime(fmt, end)), expression=_fn("JULIANDAY", _strftime(fmt, start)))
        return _int(_fn("ROUND", exp.Mul(this=exp.Paren(this=span), expression=exp.Literal.number(1440))))
    raise ValueError(f"date_diff unit {unit!r} has no SQLite translation")


def _cast(e: exp.Cast) -> exp.Expression:
    to = e.to
    scale = _decimal_scale(to)
    if scale is not None:
        rounded = _fn("ROUND", e.this, exp.Literal.number(scale))
        rounded.meta[_DECIMAL_SCALE] = scale
        return rounded
    if to.this in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT):
        return _int(_fn("ROUND", e.this))
    if to.this == exp.DataType.Type.DATE:
        return _fn("DATE", e.this)
    if to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME):
        return _fn("DATETIME", e.this)
    if to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
        scale = e.this.meta.get(_DECIMAL_SCALE)
        if scale is not None:  # DuckDB prints a DECIMAL(p, s) with its s places
            return _fn("PRINTF", exp.Literal.string(f"%.{scale}f"), e.this)
    return e


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
        return _cast(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if type(node) in _PARTS:
        return _int(_strftime(_PARTS[type(node)], node.this))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "hour":
        return _int(_strftime("%H", node.expressions[0]))
    if isinstance(node, exp.Hour):
        return _int(_strftime("%H", node.this))
    if isinstance(node, exp.Contains):
        return exp.GT(this=_fn("INSTR", node.this, node.expression), expression=exp.Literal.number(0))
    if isinstance(node, exp.Chr):
        return _fn("CHAR", *node.expressions)
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc):
        unit = _unit(node)
        if unit != "month":
            raise ValueError(f"date_trunc unit {unit!r} has no SQLite translation")
        return _fn("DATETIME", node.this, exp.Literal.string("start of month"))  # a TIMESTAMP, as DuckDB
    if isinstance(node, exp.LastDay):
        mods = ("start of month", "+1 month", "-1 day")
        return _fn("DATE", node.this, *(exp.Literal.string(m) for m in mods))
    if (
        isinstance(node, _EXACT_IN_DUCKDB)
        and not isinstance(node.parent, exp.Window)
        or (
            isinstance(node, exp.Window) and isinstance(node.this, exp.Sum)  # a running sum: round the window
        )
    ):
        return _fn(EXACT_FN, node.copy())  # a copy: node.replace() needs node still under its parent
    return node


@lru_cache(maxsize=4096)
def to_sqlite(sql: str) -> str:
    """DuckDB-dialect SQL (a rule's query.sql with its parameters substituted, a view, a shared relation)
    as SQLite SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    # bottom-up, so that a rewritten node holds rewritten operands (a cast's operand, a comparison's sums)
    for node in reversed(list(tree.dfs())):
        new = _rewrite(node)
        if new is not node:
            node.replace(new)
    return tree.sql(dialect="sqlite")


def affinity(sql_type: str) -> str:
    """SQLite type affinity of a schema type: dates and times are ISO text."""
    t = sql_type.upper()
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
        return "REAL"
    if t in ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "UBIGINT"):
        return "INTEGER"
    if t == "BOOLEAN":
        return "INTEGER"
    return "TEXT"


def converter(sql_type: str):
    """Python value -> the value SQLite stores for a column of this schema type."""
    t = sql_type.upper()
    if t == "DATE":
        return as_date_text
    if t.startswith("TIMESTAMP"):
        return as_time_text
    if affinity(t) == "REAL":
        return lambda v: float(v) if isinstance(v, Decimal) else v
    return lambda v: v


def as_date_text(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str) and len(v) > 10:
        return v[:10]
    return v


def as_time_text(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return f"{v.isoformat()} 00:00:00"
    if isinstance(v, str):
        return v.replace("T", " ", 1) if len(v) > 10 else f"{v} 00:00:00"
    return v


def _exact(value: object) -> object:
    """A float rounded to EXACT_PLACES (binary noise of a decimal sum removed); anything else unchanged."""
    return round(value, EXACT_PLACES) if isinstance(value, float) else value


def _split_part(text: str | None, sep: str | None, index: int | None) -> str | None:
    """DuckDB's split_part: the index-th (1-based) piece, '' past the end; NULL in, NULL out."""
    if text is None or sep is None or index is None:
        return None
    parts = text.split(sep) if sep else [text]
    i = int(index)
    return parts[i - 1] if 1 <= i <= len(parts) else ""


def _hash(*values: object) -> int:
    """DuckDB's hash(…) for grouping and joining within one query: equal arguments give equal 64-bit integers
    (not DuckDB's values, which no rule compares across engines). Numbers hash by value (1 and 1.0 alike), as
    DuckDB compares decimals by value."""
    key = repr(tuple(float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in values))
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class _StddevSamp:
    """stddev_samp as an aggregate (not built into SQLite)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        n = len(self.values)
        if n < 2:
            return None
        mean = sum(self.values) / n
        return (sum((v - mean) ** 2 for v in self.values) / (n - 1)) ** 0.5


def connect(path: str = ":memory:", cached_statements: int = 1024, **kwargs) -> sqlite3.Connection:
    """A SQLite connection that runs translated rule SQL: DuckDB's case-sensitive LIKE, the functions
    SQLite lacks, and a statement cache large enough to keep every rule of a stage compiled."""
    con = sqlite3.connect(path, cached_statements=cached_statements, isolation_level=None, **kwargs)
    con.execute("PRAGMA case_sensitive_like = ON")
    con.create_function(EXACT_FN, 1, _exact, deterministic=True)
    con.create_function("split_part", 3, _split_part, deterministic=True)
    con.create_function("hash", -1, _hash, deterministic=True)
    con.create_aggregate("stddev_samp", 1, _StddevSamp)
    return con
