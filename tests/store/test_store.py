"""Workflow store: migrations, users, throttling, reviews, rule settings and the hash-chained log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from typer.testing import CliRunner

from fundguard.errors import FundguardError
from fundguard.store import oplog, reviews, rule_settings, users
from fundguard.store.db import migrate
from fundguard.store.models import Base, LoginThrottle, OpLog, User
from fundguard.store.passwords import policy_problems, verify_password

PW = "Test-Passw0rd!"


def _user(s, name, role, scope="230100", inst=None):
    return users.create_user(s, name, PW, role, admdvs_scope=scope, fixmedins_code=inst, must_change=False)


def test_migrations_match_models_and_are_idempotent(store):
    migrate(store.engine)  # second run is a no-op
    with store.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []


def test_bootstrap_admin_once_and_must_change(store):
    with store.session() as s:
        pw = users.bootstrap_admin(s)
        assert pw and not policy_problems(pw)
        admin = s.execute(select(User).where(User.username == "admin")).scalar()
        assert admin.must_change_password and admin.role == "admin"
        assert verify_password(admin.password_hash, pw)
        assert admin.password_hash.startswith("$argon2id$")
    with store.session() as s:
        assert users.bootstrap_admin(s) is None


def test_password_policy():
    assert policy_problems("Abcdefgh1!") == []
    assert policy_problems("abcdefgh12")  # two classes only
    assert policy_problems("Ab1!")  # too short
    assert policy_problems("Xadmin-2025!", "admin")  # contains the username


def test_create_user_validation(store):
    with store.session() as s, pytest.raises(FundguardError) as e:
        users.create_user(s, "inst", PW, "institution")
    assert "必须指定定点医药机构编号" in e.value.zh
    with store.session() as s, pytest.raises(FundguardError):
        users.create_user(s, "bad", PW, "auditor", admdvs_scope="23")


def test_throttle_locks_account_after_five_failures(store):
    with store.session() as s:
        _user(s, "a1", "auditor")
    for _ in range(5):
        with store.session() as s:
            assert users.authenticate(s, "a1", "wrong", "10.0.0.1").user is None
    with store.session() as s:
        res = users.authenticate(s, "a1", PW, "10.0.0.2")
        assert res.user is None and "锁定" in res.error
    with store.session() as s:  # move the lock 16 minutes into the past: it has expired
        for row in s.execute(select(LoginThrottle)).scalars():
            if row.locked_until:
                row.locked_until -= timedelta(minutes=16)
    with store.session() as s:
        assert users.authenticate(s, "a1", PW, "10.0.0.3").user is not None


def test_review_steps_need_the_right_roles_and_different_people(store):
    with store.session() as s:
        a, r, c = _user(s, "a1", "auditor"), _user(s, "r1", "reviewer"), _user(s, "c1", "chief")
        an = _user(s, "n1", "analyst")
    with store.session() as s:
        with pytest.raises(reviews.ReviewRefused):
            reviews.record(s, s.get(User, an.id), "F1", "确认违规", "")
        with pytest.raises(reviews.ReviewRefused):
            reviews.record(s, s.get(User, r.id), "F1", "确认违规", "")
        with pytest.raises(reviews.ReviewRefused):
            reviews.record(s, s.get(User, a.id), "F1", "随便", "")
    with store.session() as s:
        reviews.record(s, s.get(User, a.id), "F1", "确认违规", "初审意见")
    with store.session() as s:
        reviews.record(s, s.get(User, r.id), "F1", "确认违规", "复审意见")
        reviews.record(s, s.get(User, c.id), "F1", "排除疑点", "终审意见")
    with store.session() as s:
        assert reviews.status_of(s, "F1") == "已终审"
        assert [st.step for st, _ in reviews.history(s, "F1")] == ["初审", "复审", "终审"]
        assert reviews.ids_with_status(s, ["已终审"]) == ["F1"]
        assert reviews.statuses_for(s, ["F1", "F2"]) == {"F1": "已终审"}
        assert len(s.execute(select(OpLog).where(OpLog.action == "review")).scalars().all()) == 3


def test_rule_settings_four_eyes_and_active_overrides(store):
    with store.session() as s:
        a, c1, c2 = _user(s, "a1", "auditor"), _user(s, "c1", "chief"), _user(s, "c2", "chief")
    with store.session() as s:
        p1 = rule_settings.propose(
            s, s.get(User, a.id), "GZX", "230100", True, {"age": 14}, "2025-01-01", "理由", known_params={"age"}
        )
        p2 = rule_settings.propose(s, s.get(User, c1.id), "GZX", "230100", False, {}, "2025-07-01", "停用")
        with pytest.raises(rule_settings.ProposalRefused):
            rule_settings.propose(
                s, s.get(User, a.id), "GZX", "230100", True, {"nope": 1}, "2025-01-01", "x", known_params={"age"}
            )
        p1_id, p2_id = p1.id, p2.id
    with store.session() as s:
        with pytest.raises(rule_settings.ProposalRefused):
            rule_settings.decide(s, s.get(User, c1.id), p2_id, True)  # own proposal
        with pytest.raises(rule_settings.ProposalRefused):
            rule_settings.decide(s, s.get(User, a.id), p1_id, True)  # auditor
    with store.session() as s:
        rule_settings.decide(s, s.get(User, c1.id), p1_id, True)
        rule_settings.decide(s, s.get(User, c2.id), p2_id, True)
    with store.session() as s:
        assert rule_settings.active_overrides(s, "230100", date(2024, 12, 1)) == {}
        mid = rule_settings.active_overrides(s, "230100", date(2025, 3, 1))["GZX"]
        assert mid["enabled"] is True and mid["params"] == {"age": 14}
        late = rule_settings.active_overrides(s, "230100", date(2025, 8, 1))["GZX"]
        assert late["enabled"] is False and late["effective_date"] == "2025-07-01"
        with pytest.raises(rule_settings.ProposalRefused):
            rule_settings.decide(s, s.get(User, c2.id), p1_id, False)  # already decided


def test_oplog_chain_verifies(store):
    with store.session() as s:
        for i in range(5):
            oplog.append(s, "export", username=f"u{i}", detail={"rows": i})
    with store.session() as s:
        res = oplog.verify(s)
    assert res.ok and res.rows == 5


def test_oplog_detects_tampered_row(store):
    with store.session() as s:
        for i in range(5):
            oplog.append(s, "export", username=f"u{i}", detail={"rows": i})
    with store.session() as s:
        target = s.execute(select(OpLog.id).order_by(OpLog.id).offset(2).limit(1)).scalar()
    with store.engine.begin() as con:  # an insider edits the row directly in the database
        con.execute(text("UPDATE oplog SET detail = :d WHERE id = :i"), {"d": '{"rows": 0}', "i": target})
    with store.session() as s:
        res = oplog.verify(s)
    assert not res.ok and res.broken_id == target and "篡改" in res.reason_zh


def test_oplog_detects_deleted_row(store):
    with store.session() as s:
        for i in range(4):
            oplog.append(s, "login", username=f"u{i}")
        ids = list(s.execute(select(OpLog.id).order_by(OpLog.id)).scalars())
    with store.engine.begin() as con:
        con.execute(text("DELETE FROM oplog WHERE id = :i"), {"i": ids[1]})
    with store.session() as s:
        res = oplog.verify(s)
    assert not res.ok and res.broken_id == ids[2]


def test_cli_oplog_verify_exit_code(store):
    from fundguard.cli.main import app

    with store.session() as s:
        for i in range(3):
            oplog.append(s, "login", username=f"u{i}")
        first = s.execute(select(OpLog.id).order_by(OpLog.id)).scalar()
    runner = CliRunner()
    ok = runner.invoke(app, ["oplog", "verify", "--store-url", store.url])
    assert ok.exit_code == 0 and "3" in ok.output
    with store.engine.begin() as con:
        con.execute(text("UPDATE oplog SET username = 'mallory' WHERE id = :i"), {"i": first})
    bad = runner.invoke(app, ["oplog", "verify", "--store-url", store.url, "--json"])
    assert bad.exit_code == 1
    assert f'"broken_id": {first}' in bad.output


def test_oplog_concurrent_appends_keep_one_chain(store):
    import threading

    def work(n: int) -> None:
        for i in range(10):
            with store.session() as s:
                oplog.append(s, "export", username=f"w{n}", detail={"i": i})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.session() as s:
        res = oplog.verify(s)
    assert res.ok and res.rows == 40


def test_login_purges_abandoned_sessions(store):
    from fundguard.store.models import WebSession

    with store.session() as s:
        u = _user(s, "a1", "auditor")
        old = users.open_session(s, u, "10.0.0.1")
        old.last_seen -= timedelta(minutes=120)
    with store.session() as s:
        users.open_session(s, s.get(User, u.id), "10.0.0.1", timeout_minutes=30)
    with store.session() as s:
        assert s.execute(select(WebSession)).scalars().all().__len__() == 1
        assert users.load_session(s, old.id, 30) is None


def test_statuses_for_many_ids_is_chunked(store):
    with store.session() as s:
        a = _user(s, "a1", "auditor")
    with store.session() as s:
        reviews.record(s, s.get(User, a.id), "F7", "确认违规", "")
    ids = [f"X{i}" for i in range(12_000)] + ["F7"]
    with store.session() as s:
        assert reviews.statuses_for(s, ids, chunk=5000) == {"F7": "已初审"}
