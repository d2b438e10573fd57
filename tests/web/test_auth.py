"""Login, forced password change, CSRF, throttling, session timeout, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fundguard.store.models import LoginThrottle, OpLog, User, WebSession
from fundguard.store.users import bootstrap_admin

from .conftest import PASSWORD, csrf_of, login


def _post_login(client, username, password):
    client.get("/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": client.cookies.get("fg_pre")}
    )


def _actions(store, action):
    with store.session() as s:
        return s.execute(select(OpLog).where(OpLog.action == action)).scalars().all()


PROTECTED_GET = [
    "/",
    "/dashboard",
    "/findings",
    "/findings/table",
    "/findings/F001",
    "/rules",
    "/rules/proposals",
    "/rules/GZ10000101007000",
    "/admin/users",
    "/admin/oplog",
    "/password",
]
PROTECTED_POST = [
    "/logout",
    "/password",
    "/findings/F001/unmask",
    "/findings/F001/review",
    "/findings/export",
    "/rules/GZ10000101007000/propose",
    "/rules/proposals/1/approve",
    "/admin/users",
    "/admin/users/1",
    "/admin/users/1/reset",
    "/admin/users/1/unlock",
    "/admin/oplog/verify",
]


@pytest.mark.parametrize("path", PROTECTED_GET)
def test_unauthenticated_get_redirects_to_login(client, path):
    r = client.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", PROTECTED_POST)
def test_unauthenticated_post_is_refused(client, path):
    r = client.post(path, data={"csrf_token": "x"})
    assert r.status_code == 401
    assert "登录" in r.text


def test_login_page_is_chinese(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text and "用户登录" in r.text


def test_login_and_logout_are_logged(client, store):
    csrf = login(client, "auditor1")
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/dashboard").status_code == 303
    assert [r.username for r in _actions(store, "login")] == ["auditor1"]
    assert [r.username for r in _actions(store, "logout")] == ["auditor1"]


def test_wrong_password_is_chinese_and_logged(client, store):
    r = _post_login(client, "auditor1", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    assert _actions(store, "login_failed")


def test_login_without_csrf_is_refused(client):
    client.get("/login")
    r = client.post("/login", data={"username": "auditor1", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403 and "CSRF" in r.text


def test_account_locked_after_five_failures(client, store):
    for _ in range(5):
        assert _post_login(client, "auditor1", "bad").status_code == 401
    r = _post_login(client, "auditor1", PASSWORD)  # right password, but locked
    assert r.status_code == 401 and "锁定" in r.text
    assert any(row.target == "user:auditor1" for row in _actions(store, "login_locked"))


def test_ip_locked_after_five_failures_across_accounts(client, store):
    for name in ("nobody1", "nobody2", "nobody3", "nobody4", "nobody5"):
        _post_login(client, name, "bad")
    r = _post_login(client, "auditor2", PASSWORD)
    assert r.status_code == 401 and "锁定" in r.text
    assert any(row.target.startswith("ip:") for row in _actions(store, "login_locked"))


def test_admin_unlock(client, store, as_user):
    for _ in range(5):
        _post_login(client, "auditor1", "bad")
    # The test client's address is locked too; lift that lock directly so the administrator can log in.
    with store.session() as s:
        s.query(LoginThrottle).filter(LoginThrottle.key.like("ip:%")).delete(synchronize_session=False)
    csrf = as_user("admin2")
    assert "已锁定" in client.get("/admin/users").text
    with store.session() as s:
        uid = s.execute(select(User.id).where(User.username == "auditor1")).scalar()
    assert client.post(f"/admin/users/{uid}/unlock", data={"csrf_token": csrf}).status_code == 303
    client.cookies.clear()
    assert _post_login(client, "auditor1", PASSWORD).status_code == 303
    assert _actions(store, "user_unlock")


def test_first_admin_must_change_password(tmp_path, warehouse_path):
    from fastapi.testclient import TestClient

    from fundguard.config import Settings
    from fundguard.web.app import create_app

    app = create_app(Settings(warehouse=str(warehouse_path), store_url=f"sqlite:///{tmp_path / 's.sqlite'}"))
    initial = app.state.initial_admin_password
    assert initial
    with TestClient(app, follow_redirects=False) as c:
        r = _post_login(c, "admin", initial)
        assert r.headers["location"] == "/password"
        assert c.get("/admin/users").headers["location"] == "/password"  # everything else is blocked
        csrf = csrf_of(c.get("/password").text)
        weak = c.post(
            "/password",
            data={"csrf_token": csrf, "old_password": initial, "new_password": "short", "new_password2": "short"},
        )
        assert weak.status_code == 400 and "至少 10 位" in weak.text
        ok = c.post(
            "/password",
            data={
                "csrf_token": csrf,
                "old_password": initial,
                "new_password": "Neues-Passw0rt",
                "new_password2": "Neues-Passw0rt",
            },
        )
        assert ok.status_code == 303
        assert c.get("/admin/users").status_code == 200
    with app.state.store.session() as s:
        assert bootstrap_admin(s) is None  # only on an empty store


def test_session_timeout(client, store):
    login(client, "auditor1")
    with store.session() as s:
        for ws in s.execute(select(WebSession)).scalars():
            ws.last_seen -= timedelta(minutes=31)
    r = client.get("/dashboard")
    assert r.status_code == 303 and "timeout=1" in r.headers["location"]
    assert "会话已超时" in client.get(r.headers["location"]).text
    assert _actions(store, "session_timeout")


def test_csrf_required_on_state_changes(client, as_user):
    as_user("auditor1")
    for path in ("/findings/F001/review", "/findings/F001/unmask", "/findings/export", "/logout"):
        assert client.post(path, data={"conclusion": "确认违规"}).status_code == 403, path
        assert client.post(path, data={"csrf_token": "wrong"}).status_code == 403, path
        assert client.post(path, headers={"X-CSRF-Token": "wrong"}).status_code == 403, path


def test_csrf_header_accepted(client, as_user):
    csrf = as_user("auditor1")
    r = client.post("/findings/F001/unmask", headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert r.status_code == 200 and "张三丰" in r.text


def test_security_headers(client):
    r = client.get("/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_open_redirect_blocked(client):
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "auditor1",
            "password": PASSWORD,
            "csrf_token": client.cookies.get("fg_pre"),
            "next": "//evil.example/",
        },
    )
    assert r.headers["location"] == "/dashboard"


def test_password_older_than_90_days_must_be_changed(client, store):
    login(client, "auditor1")
    assert client.get("/findings").status_code == 200
    with store.session() as s:
        u = s.execute(select(User).where(User.username == "auditor1")).scalar()
        u.password_changed_at = u.created_at = u.created_at - timedelta(days=91)
    r = client.get("/findings")
    assert r.status_code == 303 and r.headers["location"] == "/password"
    assert "超过 90 天" in client.get("/password").text


def test_password_change_ends_other_sessions(app, store):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as a, TestClient(app, follow_redirects=False) as b:
        csrf = login(a, "auditor1")
        login(b, "auditor1")
        r = a.post(
            "/password",
            data={
                "csrf_token": csrf,
                "old_password": PASSWORD,
                "new_password": "Another-Passw0rd",
                "new_password2": "Another-Passw0rd",
            },
        )
        assert r.status_code == 303
        assert a.get("/findings").status_code == 200  # the session that changed it stays
        assert b.get("/findings").status_code == 303  # the other one is logged out
