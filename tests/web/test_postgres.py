"""The web app on a PostgreSQL workflow store: login, review, unmask, rule approval, log verification."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from fundguard.config import Settings
from fundguard.store import oplog
from fundguard.store.db import Store, make_engine
from fundguard.store.models import Base
from fundguard.store.users import create_user
from fundguard.web.app import create_app

from .conftest import PASSWORD, RULE, RULES_DIR, USERS, login

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_client(pg_url, warehouse_path):
    engine = make_engine(pg_url)
    with engine.begin() as con:
        Base.metadata.drop_all(con)
        con.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    store = Store(pg_url)
    with store.session() as s:
        for name in ("auditor1", "reviewer1", "chief1", "chief2"):
            role, scope, inst = USERS[name]
            create_user(s, name, PASSWORD, role, admdvs_scope=scope, fixmedins_code=inst, must_change=False)
    app = create_app(Settings(warehouse=str(warehouse_path), store_url=pg_url), rules_dir=RULES_DIR, store=store)
    assert app.state.initial_admin_password is None  # users exist already
    with TestClient(app, follow_redirects=False) as c:
        yield c, store
    store.dispose()


def test_web_flow_on_postgres(pg_client):
    client, store = pg_client
    csrf = login(client, "auditor1")
    assert client.post("/findings/F001/unmask", data={"csrf_token": csrf}).status_code == 200
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规", "note": "初审"})
    assert "error" not in r.headers["location"]
    r = client.post(
        f"/rules/{RULE}/propose",
        data={
            "csrf_token": csrf,
            "admdvs": "230100",
            "enabled": "0",
            "effective_date": "2025-01-01",
            "reason": "试点停用",
        },
    )
    assert "error" not in r.headers["location"]
    client.cookies.clear()
    csrf = login(client, "reviewer1")
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规"})
    assert "error" not in r.headers["location"]
    client.cookies.clear()
    csrf = login(client, "chief2")
    assert client.post("/rules/proposals/1/approve", data={"csrf_token": csrf}).status_code == 303
    r = client.post("/findings/F001/review", data={"csrf_token": csrf, "conclusion": "确认违规"})
    assert "error" not in r.headers["location"]
    assert "已终审" in client.get("/findings/F001").text
    assert client.get("/findings/table", params={"status": "已终审"}).text.count('href="/findings/F001"') == 1
    with store.session() as s:
        result = oplog.verify(s)
        from fundguard.store.rule_settings import active_overrides

        assert active_overrides(s, "230100")[RULE]["enabled"] is False
    assert result.ok and result.rows >= 10
