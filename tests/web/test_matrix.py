"""Every role against every page and every state-changing route; CSRF on each POST; error pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fundguard.config import Settings
from fundguard.web.app import create_app

from .conftest import RULE, RULES_DIR

ROLES_USERS = {
    "admin": "admin2",
    "auditor": "auditor1",
    "reviewer": "reviewer1",
    "chief": "chief1",
    "analyst": "analyst1",
    "institution": "inst1",
}

# Written out by hand (not derived from fundguard.store.roles) so that a change of the code is caught here.
PAGES = {
    "/dashboard": {"auditor", "reviewer", "chief", "analyst", "institution"},
    "/findings": {"auditor", "reviewer", "chief", "analyst", "institution"},
    "/findings/table": {"auditor", "reviewer", "chief", "analyst", "institution"},
    "/findings/F001": {"auditor", "reviewer", "chief", "analyst", "institution"},
    "/rules": {"admin", "auditor", "reviewer", "chief", "analyst", "institution"},
    f"/rules/{RULE}": {"admin", "auditor", "reviewer", "chief", "analyst", "institution"},
    "/rules/proposals": {"admin", "auditor", "reviewer", "chief", "analyst"},
    "/admin/users": {"admin"},
    "/admin/oplog": {"admin"},
}
# POST route → roles allowed (with a valid token they get past the permission check).
POSTS = {
    "/findings/F001/unmask": {"auditor", "reviewer", "chief"},
    "/findings/F001/review": {"auditor", "reviewer", "chief"},
    "/findings/review-batch": {"auditor", "reviewer", "chief"},
    "/findings/export": {"auditor", "reviewer", "chief", "analyst", "institution"},
    f"/rules/{RULE}/propose": {"auditor", "reviewer", "chief", "analyst"},
    "/rules/proposals/1/approve": {"admin", "chief"},
    "/rules/proposals/1/reject": {"admin", "chief"},
    "/admin/users": {"admin"},
    "/admin/users/2": {"admin"},
    "/admin/users/2/reset": {"admin"},
    "/admin/users/2/unlock": {"admin"},
    "/admin/oplog/verify": {"admin"},
    "/password": {"admin", "auditor", "reviewer", "chief", "analyst", "institution"},
    "/logout": {"admin", "auditor", "reviewer", "chief", "analyst", "institution"},
}


@pytest.mark.parametrize("role", ROLES_USERS)
def test_pages_by_role(client, as_user, role):
    as_user(ROLES_USERS[role])
    for path, allowed in PAGES.items():
        r = client.get(path)
        expected = 200 if role in allowed else 403
        assert r.status_code == expected, (role, path, r.status_code)
        assert 'lang="zh-CN"' in r.text if path != "/findings/table" else True


@pytest.mark.parametrize("role", ROLES_USERS)
def test_posts_by_role(client, as_user, role):
    csrf = as_user(ROLES_USERS[role])  # one login: none of the routes ends this session except /logout, last
    for path, allowed in POSTS.items():
        # Missing and wrong tokens are refused for everyone, before anything happens.
        assert client.post(path, data={}).status_code == 403, (role, path)
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 403, (role, path)
        r = client.post(path, data={"csrf_token": csrf})
        if role in allowed:
            assert r.status_code != 403, (role, path, r.text[:200])
        else:
            assert r.status_code == 403 and "禁止访问" in r.text, (role, path)


def test_internal_error_page_is_chinese(tmp_path, store):
    bad = tmp_path / "not-a-warehouse.duckdb"
    bad.write_text("这不是数据库", encoding="utf-8")
    app = create_app(Settings(warehouse=str(bad), store_url=store.url), rules_dir=RULES_DIR, store=store)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
        from .conftest import login

        login(c, "auditor1")
        r = c.get("/findings")
        assert r.status_code == 500
        assert "系统内部错误" in r.text and "Traceback" not in r.text


def test_missing_warehouse_is_explained(tmp_path, store):
    app = create_app(
        Settings(warehouse=str(tmp_path / "none.duckdb"), store_url=store.url), rules_dir=RULES_DIR, store=store
    )
    with TestClient(app, follow_redirects=False) as c:
        from .conftest import login

        login(c, "auditor1")
        r = c.get("/dashboard")
        assert r.status_code == 503 and "数据仓库尚未建立" in r.text
        assert c.get("/rules").status_code == 200  # the rule library works without a warehouse
