"""Verdicts per line (违规项 / 涉及项 / 通过), history-dependent rules, and the call log."""

from __future__ import annotations

import sqlite3

GENDER, ELDERLY, COURSE = "GZ10000301004000", "GZ10000301009000", "GZ10000101010000"


def _post(client, body, path="/api/v1/audit/settlement"):
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["infcode"] == 0 and data["inf_refmsgid"] == body["msgid"]
    return data["output"]


def test_verdict_per_line_with_history(client, message):
    out = _post(client, message)
    lines = {line["feedetl_sn"]: line for line in out["lines"]}
    assert lines["L1"]["verdict"] == "违规项" and lines["L1"]["rule_codes"] == [GENDER]
    assert lines["L1"]["violation_amount"] == 20.0 and "性别" in lines["L1"]["message"]
    assert any("第三十八条" in b for b in lines["L1"]["legal_basis"])
    assert lines["L2"]["verdict"] == "涉及项" and lines["L2"]["rule_codes"] == [ELDERLY]
    assert lines["L2"]["violation_amount"] == 0.0 and lines["L2"]["suspect_amount"] == 2.0
    # the 4th day of a 3-day course: only the history in the store makes it a violation
    assert lines["L3"]["verdict"] == "违规项" and lines["L3"]["rule_codes"] == [COURSE]
    assert "第4个使用日" in lines["L3"]["message"]
    assert lines["L4"] == {**lines["L4"], "verdict": "通过", "rule_codes": [], "violation_amount": 0.0}
    s = out["summary"]
    assert (s["verdict"], s["violation_lines"], s["suspect_lines"], s["pass_lines"]) == ("违规项", 2, 1, 1)
    assert s["violation_amount"] == 70.0 and s["stage"] == "事中"


def test_history_dependent_rule_needs_history(client, message):
    message["input"]["mdtrtinfo"]["psn_no"] = "P3"  # same age and sex, no prior use of the drug
    lines = {line["feedetl_sn"]: line for line in _post(client, message)["lines"]}
    assert lines["L3"]["verdict"] == "通过"
    assert lines["L1"]["verdict"] == "违规项"  # line-local rules do not need history
    # replaying P1's claim as of before the second prior day: only one prior use day
    r = client.post(
        "/api/v1/audit/settlement?history_until=2025-03-02 00:00:00",
        json={**message, "input": {**message["input"], "mdtrtinfo": {**message["input"]["mdtrtinfo"], "psn_no": "P1"}}},
    )
    lines = {line["feedetl_sn"]: line for line in r.json()["output"]["lines"]}
    assert lines["L3"]["verdict"] == "通过"


def test_incoming_lines_replace_stored_ones(client, message):
    """Re-sending a stored claim (same setl_id) judges it against the rest of the history, not itself."""
    message["input"]["setlinfo"]["setl_id"] = "S3"
    message["input"]["mdtrtinfo"]["mdtrt_id"] = "M3"
    message["input"]["feedetail"] = [
        {**message["input"]["feedetail"][2], "feedetl_sn": "H3", "fee_ocur_time": "2025-03-03 09:10:00"}
    ]
    message["inf_time"] = "2025-03-03 10:00:00"
    (line,) = _post(client, message)["lines"]
    assert line["verdict"] == "通过"  # third use day of three


def test_prescription_runs_only_pre_order_rules(client, message):
    message["infno"] = "3101"
    for line in message["input"]["feedetail"]:
        line.pop("pric"), line.pop("det_item_fee_sumamt"), line.pop("inscp_scp_amt", None)
    message["input"]["feedetail"][0]["pric"] = 10
    out = _post(client, message, "/api/v1/audit/prescription")
    lines = {line["feedetl_sn"]: line for line in out["lines"]}
    assert out["summary"]["stage"] == "事前"
    assert lines["L1"]["verdict"] == "违规项" and lines["L1"]["violation_amount"] == 20.0  # cnt × pric
    assert lines["L3"]["verdict"] == "通过"  # the course rule is 事中/事后 only


def test_each_call_is_logged(client, message):
    _post(client, message)
    bad = {**message, "infno": "9999"}
    client.post("/api/v1/audit/settlement", json=bad)
    client.calllog.flush()
    con = sqlite3.connect(str(client.calllog.path))
    rows = con.execute(
        "SELECT msgid, infno, fixmedins_code, psn_no, http_status, infcode, n_lines, n_violation, n_suspect, n_pass,"
        " violation_amount, error, duration_ms, request_time <= response_time FROM audit_calls ORDER BY id"
    ).fetchall()
    con.close()
    ok, err = rows[-2], rows[-1]
    assert ok[:11] == (message["msgid"], "2207", "H00000000001", "P1", 200, 0, 4, 2, 1, 1, 70.0)
    assert ok[11] is None and ok[12] >= 0 and ok[13] == 1
    assert err[1] == "9999" and err[4] == 400 and err[5] == -1 and "infno" in err[11]


def test_token_is_checked_when_configured(auditor, tmp_path, message):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from fundguard.realtime.api import AuditService, create_audit_router
    from fundguard.realtime.calllog import CallLog

    log = CallLog(tmp_path / "c.sqlite")
    app = FastAPI()
    app.include_router(create_audit_router(service=AuditService(auditor=auditor, calllog=log, token="s3cret")))
    with TestClient(app) as c:
        assert c.post("/api/v1/audit/settlement", json=message).status_code == 401
        r = c.post("/api/v1/audit/settlement", json=message, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200
    log.close()
