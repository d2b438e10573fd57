"""Same rules as batch: a settlement replayed through the 事中 API, with the history before it, gets the
findings the batch screen wrote on its lines, settlement and visit (same rule codes, same amounts)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fundguard.realtime.api import AuditService, create_audit_router
from fundguard.realtime.auditor import Auditor
from fundguard.realtime.calllog import CallLog
from fundguard.realtime.replay import settlement_message

# Labelled line/settlement scenarios whose rules run at settlement time (split_admission is 事后 only).
SCENARIOS = (
    "drug_gender",
    "dup_charge",
    "item_frequency",
    "drug_course",
    "item_course",
    "item_cycle",
    "drug_child",
    "drug_hosp_lv",
    "over_quantity",
    "otp_during_ipt",
    "post_death",
    "diag_gender",
)

pytestmark = pytest.mark.slow


def _batch(con, setl_id: str, mdtrt_id: str, codes: list[str]) -> list[tuple]:
    rows = con.execute(
        """SELECT rule_code, feedetl_sn, violation_amount FROM findings
           WHERE (setl_id = ? OR (feedetl_sn IS NULL AND mdtrt_id = ?)) AND list_contains(?, rule_code)""",
        [setl_id, mdtrt_id, codes],
    ).fetchall()
    return sorted((c, s, float(a)) for c, s, a in rows)


def test_replayed_settlements_get_the_batch_findings(region):
    tmp, wh, store, codes = region
    con = duckdb.connect(str(wh), read_only=True)
    gt = con.execute(
        f"""SELECT scenario, min(setl_id) FROM read_parquet('{tmp / "region" / "ground_truth.parquet"}')
            WHERE setl_id IS NOT NULL AND list_contains(?, scenario) GROUP BY 1 ORDER BY 1""",
        [list(SCENARIOS)],
    ).fetchall()
    assert {s for s, _ in gt} == set(SCENARIOS)
    plain = [
        r[0] for r in con.execute("SELECT setl_id FROM setl_d USING SAMPLE reservoir(6 ROWS) REPEATABLE (3)").fetchall()
    ]
    auditor = Auditor(store, rule_codes=codes)
    log = CallLog(tmp / "calls.sqlite")
    app = FastAPI()
    app.include_router(create_audit_router(service=AuditService(auditor=auditor, calllog=log, token="")))
    fired: set[str] = set()
    try:
        with TestClient(app) as client:
            for setl_id in [s for _, s in gt] + plain:
                msg = settlement_message(con, setl_id)
                until = dt.datetime.strptime(msg["inf_time"], "%Y-%m-%d %H:%M:%S")
                r = client.post(
                    "/api/v1/audit/settlement", params={"history_until": until.isoformat(sep=" ")}, json=msg
                )
                assert r.status_code == 200, r.text
                out = r.json()["output"]
                realtime = sorted(
                    [
                        (f["rule_code"], line["feedetl_sn"], f["violation_amount"])
                        for line in out["lines"]
                        for f in line["findings"]
                    ]
                    + [(f["rule_code"], None, f["violation_amount"]) for f in out["result"]]
                )
                expected = _batch(con, setl_id, msg["input"]["mdtrtinfo"]["mdtrt_id"], codes)
                assert realtime == expected, setl_id
                fired |= {c for c, _, _ in realtime}
                # the line verdict follows the findings' result types
                for line in out["lines"]:
                    kinds = {f["result_type"] for f in line["findings"]}
                    want = "违规项" if "明确违规" in kinds else "涉及项" if kinds else "通过"
                    assert line["verdict"] == want
    finally:
        log.close()
        auditor.close()
        con.close()
    # the labelled violations were actually caught (not an empty == empty comparison)
    assert {"GZ10000301004000", "GZ10000102012000", "GZ10000102014000", "GZ10000101010000"} <= fired
