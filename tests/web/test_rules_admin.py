"""Rule library browser, four-eyes rule changes, dashboard, user administration and the log viewer."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from fundguard.store.models import OpLog, RuleSetting, User
from fundguard.store.rule_settings import active_overrides

from .conftest import RULE


def _log(store, action):
    with store.session() as s:
        return s.execute(select(OpLog).where(OpLog.action == action)).scalars().all()


def test_rule_library_lists_rule_types_and_knowledge(client, as_user):
    as_user("analyst1")
    r = client.get("/rules")
    assert r.status_code == 200 and RULE in r.text and "药品限儿童使用" in r.text
    d = client.get(f"/rules/{RULE}")
    assert d.status_code == 200
    assert "child_max_age" in d.text and "儿童年龄上限" in d.text
    assert "小儿氨酚黄那敏颗粒" in d.text  # kb_point of kp_type drug_age
    assert client.get("/rules/NOPE").status_code == 404


def test_institution_user_may_read_rules_but_not_propose(client, as_user):
    csrf = as_user("inst1")
    assert client.get("/rules").status_code == 200
    assert "提出调整" not in client.get(f"/rules/{RULE}").text
    r = client.post(
        f"/rules/{RULE}/propose",
        data={"csrf_token": csrf, "admdvs": "230100", "reason": "x", "effective_date": "2025-01-01"},
    )
    assert r.status_code == 403
    assert client.get("/rules/proposals").status_code == 403


def _propose(client, csrf, **extra):
    data = {
        "csrf_token": csrf,
        "admdvs": "230100",
        "enabled": "1",
        "param_child_max_age": "14",
        "effective_date": "2025-01-01",
        "reason": "本地政策：儿童年龄上限 14 岁",
    }
    data.update(extra)
    return client.post(f"/rules/{RULE}/propose", data=data)


def test_four_eyes_rule_change(client, as_user, store):
    csrf = as_user("chief2")
    r = _propose(client, csrf)
    assert r.status_code == 303 and "error" not in r.headers["location"]
    with store.session() as s:
        assert active_overrides(s, "230100") == {}  # nothing in force before approval
    pid = int(re.search(r"<td>(\d+)</td><td>230100</td>", client.get(f"/rules/{RULE}").text).group(1))
    # the proposer cannot approve their own proposal
    r = client.post(f"/rules/proposals/{pid}/approve", data={"csrf_token": csrf})
    assert "error=" in r.headers["location"]
    # an auditor may not approve
    csrf = as_user("auditor1")
    assert client.post(f"/rules/proposals/{pid}/approve", data={"csrf_token": csrf}).status_code == 403
    # another chief approves
    csrf = as_user("chief1")
    r = client.post(f"/rules/proposals/{pid}/approve", data={"csrf_token": csrf, "note": "同意"})
    assert r.status_code == 303 and "error" not in r.headers["location"]
    with store.session() as s:
        ov = active_overrides(s, "230100", on=date(2025, 6, 1))
        assert ov[RULE]["params"] == {"child_max_age": 14} and ov[RULE]["enabled"] is True
        assert active_overrides(s, "230100", on=date(2024, 12, 31)) == {}
        assert active_overrides(s, "230200", on=date(2025, 6, 1)) == {}
    assert len(_log(store, "rule_propose")) == 1 and len(_log(store, "rule_approve")) == 1
    assert "已批准" in client.get("/rules/proposals").text


def test_admin_may_approve_and_disable(client, as_user, store):
    csrf = as_user("auditor1")
    assert _propose(client, csrf, enabled="0", param_child_max_age="").status_code == 303
    with store.session() as s:
        from fundguard.store.models import RuleProposal

        pid = s.execute(select(RuleProposal.id)).scalar()
    csrf = as_user("admin2")
    assert client.post(f"/rules/proposals/{pid}/approve", data={"csrf_token": csrf}).status_code == 303
    with store.session() as s:
        assert active_overrides(s, "230100")[RULE]["enabled"] is False
        assert s.execute(select(RuleSetting)).scalar().proposal_id == pid


def test_proposal_validation_in_chinese(client, as_user):
    csrf = as_user("auditor1")
    r = _propose(client, csrf, admdvs="230200")  # outside the auditor's scope
    assert "error=" in r.headers["location"]
    follow = client.get(r.headers["location"])
    assert "权限范围内" in follow.text
    r = _propose(client, csrf, effective_date="2025/01/01")
    assert "YYYY-MM-DD" in client.get(r.headers["location"]).text
    r = _propose(client, csrf, reason="  ")
    assert "调整理由" in client.get(r.headers["location"]).text


def test_reject_is_logged(client, as_user, store):
    csrf = as_user("auditor1")
    _propose(client, csrf)
    csrf = as_user("chief1")
    r = client.post("/rules/proposals/1/reject", data={"csrf_token": csrf, "note": "依据不足"})
    assert r.status_code == 303
    assert len(_log(store, "rule_reject")) == 1
    with store.session() as s:
        assert active_overrides(s, "230100") == {}


def test_dashboard_scoped_totals(client, as_user):
    as_user("auditor1")
    r = client.get("/dashboard")
    assert r.status_code == 200
    assert "监管驾驶舱" in r.text and 'id="chart-data"' in r.text
    assert "哈尔滨市第一医院" in r.text and "齐齐哈尔市中心医院" not in r.text
    assert "515.50" in r.text  # 120.50 + 80 + 300 + 15 in region 230100
    as_user("inst1")
    r = client.get("/dashboard")
    assert "215.50" in r.text and "哈尔滨市道里区" not in r.text.split('id="chart-data"')[1]


def test_dashboard_filters(client, as_user):
    as_user("chief1")
    r = client.get("/dashboard", params={"admdvs": "230200"})
    assert "999.99" in r.text
    r = client.get("/dashboard", params={"period_from": "2025-02", "period_to": "2025-02"})
    assert "380.00" in r.text
    r = client.get("/dashboard", params={"hosp_lv": "08"})
    assert "300.00" in r.text
    assert client.get("/dashboard", params={"period_from": "bad"}).status_code == 422


@pytest.mark.parametrize("user", ["auditor1", "reviewer1", "chief1", "analyst1", "inst1"])
def test_only_admin_manages_users_and_reads_log(client, as_user, user):
    csrf = as_user(user)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/oplog").status_code == 403
    r = client.post("/admin/users", data={"csrf_token": csrf, "username": "x1", "role": "admin", "admdvs_scope": "*"})
    assert r.status_code == 403


def test_admin_creates_user_with_scope(client, as_user, store):
    csrf = as_user("admin2")
    r = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "inst2",
            "display_name": "道里社区",
            "role": "institution",
            "admdvs_scope": "",
            "fixmedins_code": "H23010000002",
        },
    )
    assert r.status_code == 200 and "初始密码" in r.text
    bad = client.post("/admin/users", data={"csrf_token": csrf, "username": "inst3", "role": "institution"})
    assert bad.status_code == 400 and "必须指定定点医药机构编号" in bad.text
    with store.session() as s:
        u = s.execute(select(User).where(User.username == "inst2")).scalar()
        assert u.must_change_password and u.fixmedins_code == "H23010000002"
    assert len(_log(store, "user_create")) >= 1


def test_admin_disables_user_and_sessions_end(client, as_user, store):
    as_user("auditor1")
    auditor_cookie = client.cookies.get("fg_session")
    csrf = as_user("admin2")
    with store.session() as s:
        uid = s.execute(select(User.id).where(User.username == "auditor1")).scalar()
    r = client.post(
        f"/admin/users/{uid}", data={"csrf_token": csrf, "role": "auditor", "admdvs_scope": "230100", "active": "0"}
    )
    assert r.status_code == 303
    client.cookies.clear()
    client.cookies.set("fg_session", auditor_cookie)
    assert client.get("/findings").status_code == 303
    assert _log(store, "user_update")


def test_oplog_viewer_and_verify(client, as_user):
    csrf = as_user("admin2")
    r = client.get("/admin/oplog")
    assert r.status_code == 200 and "登录" in r.text
    r = client.post("/admin/oplog/verify", data={"csrf_token": csrf})
    assert r.status_code == 200 and "校验通过" in r.text
