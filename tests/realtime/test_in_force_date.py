"""Claims of different dates share a pass when the knowledge and parameters in force are the same."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import duckdb

from fundguard.engine.params import Param
from fundguard.realtime.auditor import Auditor

D = dt.date


def _auditor(kb_rows: list[tuple], params: dict[str, Param]) -> Auditor:
    con = duckdb.connect()
    con.execute("CREATE TABLE kb_point (kp_id VARCHAR, begndate DATE, enddate DATE)")
    con.executemany("INSERT INTO kb_point VALUES (?, ?, ?)", kb_rows)
    a = Auditor.__new__(Auditor)  # only the date logic, no store
    a._boundaries = Auditor._in_force_boundaries(con, [SimpleNamespace(params=params)])
    return a


def test_dates_map_to_the_start_of_their_period():
    params = {
        "max_days": Param("max_days", "", {D(2020, 1, 1): 7, D(2024, 7, 1): 5}, {"2301": {D(2024, 3, 1): 6}}),
    }
    a = _auditor([("k1", D(2024, 1, 1), D(2024, 9, 30)), ("k2", None, None)], params)
    assert a._boundaries == [D(2020, 1, 1), D(2024, 1, 1), D(2024, 3, 1), D(2024, 7, 1), D(2024, 10, 1)]
    assert a.in_force_date(D(2024, 1, 15)) == a.in_force_date(D(2024, 2, 29)) == D(2024, 1, 1)
    assert a.in_force_date(D(2024, 3, 1)) == D(2024, 3, 1)  # regional value starts: a new period
    assert a.in_force_date(D(2024, 9, 30)) == D(2024, 7, 1)  # k1 still valid on its end date
    assert a.in_force_date(D(2024, 10, 1)) == D(2024, 10, 1)  # the day after k1 ends
    assert a.in_force_date(D(2019, 5, 5)) == D(2019, 5, 5)  # before every boundary: the day itself


def test_same_period_same_knowledge_and_parameters():
    """The property the pass sharing relies on, checked over a year of days."""
    params = {"n": Param("n", "", {D(2024, 1, 1): 1, D(2024, 5, 10): 2})}
    kb = [("a", D(2024, 2, 1), D(2024, 6, 30)), ("b", D(2024, 4, 1), None), ("c", None, D(2024, 8, 15))]
    a = _auditor(kb, params)

    def in_force(day: dt.date) -> tuple:
        points = {k for k, b, e in kb if (b is None or b <= day) and (e is None or e >= day)}
        return frozenset(points), params["n"].value_on(day)

    day = D(2024, 1, 1)
    while day < D(2025, 1, 1):
        assert in_force(a.in_force_date(day)) == in_force(day), day
        day += dt.timedelta(days=1)
