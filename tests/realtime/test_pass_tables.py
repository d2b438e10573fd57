"""Per-pass tables of the 事中 context hold the loaded pass's rows, never an earlier pass's: the shared
relations (rules/_shared, refilled once per pass) and the institutions the medins view reads — on both
executors (SQLite, the default, and DuckDB)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import pytest

from fundguard.engine.shared import shared_relations
from fundguard.engine.sqlite_sql import to_sqlite
from fundguard.realtime.auditor import Auditor
from fundguard.realtime.context import PASS_MEDINS
from fundguard.realtime.messages import parse
from fundguard.realtime.replay import settlement_message

pytestmark = pytest.mark.slow


def _rows(ctx, sql: str) -> Counter:
    """The rows of a query (DuckDB dialect) on the executor's pass database, as a multiset."""
    if hasattr(ctx, "lite"):
        return Counter(ctx.lite.execute(to_sqlite(sql)).fetchall())
    return Counter(ctx.con.execute(sql).fetchall())


def _difference(ctx, left: str, right: str) -> int:
    """Rows in one relation and not the other (as multisets), both ways."""
    a, b = _rows(ctx, left), _rows(ctx, right)
    return sum(((a - b) + (b - a)).values())


@pytest.mark.parametrize("executor", ["sqlite", "duckdb"])
def test_pass_tables_are_refilled_from_each_pass(region, executor):
    tmp, wh, store, codes = region
    con = duckdb.connect(str(wh), read_only=True)
    # no pruning: every 事中 rule runs, so every shared relation a 事中 rule reads is filled in every pass
    auditor = Auditor(store, rule_codes=codes, prune=False, executor=executor)
    ctx = auditor._all[0]
    used = [name for name in shared_relations() if any(name in ctx._rule_shared[c] for c in codes)]
    assert used, "no 事中 rule reads a shared relation: this test would check nothing"
    ids = [
        r[0]
        for r in con.execute(
            "SELECT setl_id FROM setl_d USING SAMPLE reservoir(6 ROWS) REPEATABLE (3) ORDER BY setl_id"
        ).fetchall()
    ]
    checked, institutions = 0, set()
    try:
        for setl_id in ids:
            raw = settlement_message(con, setl_id)
            if raw is None or not raw["input"]["feedetail"]:
                continue
            until = dt.datetime.strptime(raw["inf_time"], "%Y-%m-%d %H:%M:%S")
            auditor.audit("settlement", parse("settlement", raw), until)
            for name in used:
                sql = shared_relations()[name]
                assert _difference(ctx, f"SELECT * FROM {name}", sql) == 0, (setl_id, name)
            loaded = """SELECT fixmedins_code FROM fee_list_d UNION SELECT fixmedins_code FROM setl_d
                        UNION SELECT fixmedins_code FROM mdtrt_d"""
            expected = f"SELECT * FROM fixmedins WHERE fixmedins_code IN ({loaded})"
            assert _difference(ctx, f"SELECT * FROM {PASS_MEDINS}", expected) == 0, setl_id
            assert sum(_rows(ctx, "SELECT mdtrt_id FROM setl_fee").values()) > 0
            institutions |= {r[0] for r in _rows(ctx, f"SELECT fixmedins_code FROM {PASS_MEDINS}")}
            checked += 1
    finally:
        auditor.close()
        con.close()
    # several passes, at more than one institution: a table left from an earlier pass would have shown
    assert checked >= 3 and len(institutions) >= 2
