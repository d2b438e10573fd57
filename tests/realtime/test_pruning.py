"""Pruning never changes a verdict: the same settlements judged with every 事中 rule and with only the rules
that can fire on them give identical lines, findings and amounts."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from fundguard.realtime.auditor import Auditor
from fundguard.realtime.messages import parse
from fundguard.realtime.replay import settlement_message

pytestmark = pytest.mark.slow


def _verdicts(result) -> tuple:
    return result.lines, result.result, {k: v for k, v in result.summary.items() if k != "rules_run"}


def test_pruning_on_and_off_give_identical_results(region):
    tmp, wh, store, codes = region
    con = duckdb.connect(str(wh), read_only=True)
    # every labelled settlement (the violations the rules must catch) plus a random sample
    labelled = [
        r[0]
        for r in con.execute(
            f"""SELECT min(setl_id) FROM read_parquet('{tmp / "region" / "ground_truth.parquet"}')
                WHERE setl_id IS NOT NULL GROUP BY scenario ORDER BY 1"""
        ).fetchall()
    ]
    plain = [
        r[0]
        for r in con.execute("SELECT setl_id FROM setl_d USING SAMPLE reservoir(30 ROWS) REPEATABLE (5)").fetchall()
    ]
    pruned, full = Auditor(store, rule_codes=codes, prune=True), Auditor(store, rule_codes=codes, prune=False)
    ran, total, flagged = 0, 0, 0
    try:
        for setl_id in dict.fromkeys(labelled + plain):
            raw = settlement_message(con, setl_id)
            if raw is None or not raw["input"]["feedetail"]:
                continue
            msg = parse("settlement", raw)
            until = dt.datetime.strptime(raw["inf_time"], "%Y-%m-%d %H:%M:%S")
            a, b = pruned.audit("settlement", msg, until), full.audit("settlement", msg, until)
            assert _verdicts(a) == _verdicts(b), setl_id
            assert set(a.rules_ran) <= set(b.rules_ran) and len(b.rules_ran) == len(codes)
            ran, total = ran + len(a.rules_ran), total + len(b.rules_ran)
            flagged += a.summary["verdict"] != "通过"
        # several claims in one pass (as the micro-batcher forms them under load)
        day = con.execute(
            "SELECT CAST(setl_time AS DATE) d FROM setl_d GROUP BY 1 HAVING count(DISTINCT psn_no) >= 4 ORDER BY 1 LIMIT 1"
        ).fetchone()[0]
        ids = [
            r[0]
            for r in con.execute(
                "SELECT min(setl_id) FROM setl_d WHERE CAST(setl_time AS DATE) = ? GROUP BY psn_no ORDER BY 1 LIMIT 6",
                [day],
            ).fetchall()
        ]
        msgs = [settlement_message(con, s) for s in ids]
        until = max(dt.datetime.strptime(m["inf_time"], "%Y-%m-%d %H:%M:%S") for m in msgs)
        claims = [pruned.claim_rows(parse("settlement", m), until) for m in msgs]
        a, b = pruned.evaluate("事中", claims), full.evaluate("事中", claims)
        assert [_verdicts(x) for x in a] == [_verdicts(x) for x in b]
    finally:
        pruned.close()
        full.close()
        con.close()
    # not a vacuous comparison: some claims were flagged, and pruning skipped rules
    assert flagged >= 5 and ran < total
