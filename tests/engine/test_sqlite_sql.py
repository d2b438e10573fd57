"""The DuckDB → SQLite translation (engine/sqlite_sql.py) gives DuckDB's values on the cases that differ
between the two engines: decimal noise, date arithmetic, integer casts, LIKE, DuckDB-only functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from fundguard.engine.sqlite_sql import connect, to_sqlite

# (DuckDB expression over t(a, b, d, ts, s)) — each must give DuckDB's value on SQLite
EXPRESSIONS = [
    "a - b > 0.01",  # 0.31 - 0.30 is 0.010000000000000009 in binary floating point
    "a - b",
    "sum(a) OVER () - 0.05",
    "CAST(a * 3.5 AS DECIMAL(16, 2))",
    "CAST(CAST(a AS DECIMAL(16, 2)) AS VARCHAR)",
    "CAST(2.5 AS INTEGER)",
    "CAST(2.7 AS INTEGER)",
    "date_diff('day', ts, TIMESTAMP '2025-03-02 01:00:00')",
    "date_diff('day', d, DATE '2025-04-01')",
    "date_diff('minute', ts, TIMESTAMP '2025-03-01 23:59:59')",
    "year(d) * 100 + month(d)",
    "day(ts) * 100 + hour(ts)",
    "CAST(date_trunc('month', d) AS VARCHAR)",
    "CAST(last_day(d) AS VARCHAR)",
    "s LIKE 'ab%'",
    "contains(s, 'BC')",
    "strpos(s, 'C')",
    "split_part('x|y|z', '|', 2)",
    "split_part('x|y|z', '|', 5)",
    "chr(92)",
    "CAST(ts AS DATE) = d",
]


@pytest.fixture(scope="module")
def engines():
    row = (Decimal("0.31"), Decimal("0.30"), dt.date(2025, 2, 14), dt.datetime(2025, 3, 1, 23, 30, 5), "ABCd")
    duck = duckdb.connect()
    duck.execute("CREATE TABLE t (a DECIMAL(16,2), b DECIMAL(16,2), d DATE, ts TIMESTAMP, s VARCHAR)")
    duck.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", row)
    lite = connect()
    lite.execute("CREATE TABLE t (a REAL, b REAL, d TEXT, ts TEXT, s TEXT)")
    lite.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", (0.31, 0.30, "2025-02-14", "2025-03-01 23:30:05", "ABCd"))
    yield duck, lite
    duck.close()
    lite.close()


def _same(d, s) -> bool:
    if isinstance(d, bool) or isinstance(s, bool):
        return bool(d) == bool(s)
    if isinstance(d, Decimal | float) and s is not None:
        return round(float(d), 6) == round(float(s), 6)
    return d == s


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_sqlite_gives_duckdbs_value(engines, expr):
    duck, lite = engines
    sql = f"SELECT {expr} AS v FROM t"
    expected = duck.execute(sql).fetchone()[0]
    got = lite.execute(to_sqlite(sql)).fetchone()[0]
    assert _same(expected, got), f"{expr}: DuckDB {expected!r}, SQLite {got!r} ({to_sqlite(sql)})"


def test_untranslatable_date_unit_is_named():
    with pytest.raises(ValueError, match="week"):
        to_sqlite("SELECT date_diff('week', DATE '2025-01-01', DATE '2025-02-01')")


def test_hash_is_equal_exactly_for_equal_arguments():
    """hash(…) (DuckDB's, used by rules to count keys as one integer) exists on SQLite: equal arguments (numbers
    by value) hash alike, different ones apart, NULL included."""
    con = connect()
    rows = con.execute(
        to_sqlite(
            "SELECT hash('P1', 'H1', 2.50) = hash('P1', 'H1', 2.5), hash('P1', 'H1', 2.5) = hash('P1', 'H2', 2.5), "
            "hash('P1', NULL) = hash('P1', NULL), hash('P1', NULL) = hash('P1', '')"
        )
    ).fetchone()
    assert rows == (1, 0, 1, 0)
