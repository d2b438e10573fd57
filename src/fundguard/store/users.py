"""Accounts, login throttling and server-side sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fundguard.errors import FundguardError
from fundguard.store import oplog
from fundguard.store.db import utcnow
from fundguard.store.models import LoginThrottle, User, WebSession
from fundguard.store.passwords import (
    DUMMY_HASH,
    MAX_AGE_DAYS,
    hash_password,
    policy_problems,
    random_password,
    verify_password,
)
from fundguard.store.roles import ROLES

MAX_FAILURES = 5
LOCK_MINUTES = 15
FAILURE_WINDOW_MINUTES = 15


def parse_scope(text: str) -> list[str]:
    return [s.strip() for s in text.replace("，", ",").split(",") if s.strip()]


def validate_user_fields(username: str, role: str, admdvs_scope: str, fixmedins_code: str | None) -> list[str]:
    problems = []
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        problems.append("用户名只能包含字母、数字、下划线、点和连字符")
    if len(username) > 64:
        problems.append("用户名不超过 64 个字符")
    if role not in ROLES:
        problems.append("角色无效")
    scope = parse_scope(admdvs_scope)
    if any(s != "*" and not (len(s) == 6 and s.isdigit()) for s in scope):
        problems.append("统筹区须为 6 位医保区划代码，多个以逗号分隔，或 * 表示全部")
    if role == "institution" and not fixmedins_code:
        problems.append("定点机构用户必须指定定点医药机构编号")
    if role != "institution" and fixmedins_code:
        problems.append("只有定点机构用户可指定机构编号")
    return problems


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    admdvs_scope: str = "",
    fixmedins_code: str | None = None,
    must_change: bool = True,
    actor: str = "system",
    actor_role: str = "",
    ip: str = "",
) -> User:
    problems = validate_user_fields(username, role, admdvs_scope, fixmedins_code)
    problems += policy_problems(password, username)
    if session.execute(select(User).where(User.username == username)).scalar():
        problems.append("用户名已存在")
    if problems:
        raise FundguardError("；".join(problems), f"cannot create user {username!r}")
    now = utcnow()
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        admdvs_scope=",".join(parse_scope(admdvs_scope)),
        fixmedins_code=fixmedins_code or None,
        password_hash=hash_password(password),
        must_change_password=must_change,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    oplog.append(
        session,
        "user_create",
        username=actor,
        role=actor_role,
        ip=ip,
        target=f"user:{username}",
        detail={"role": role, "admdvs_scope": user.admdvs_scope, "fixmedins_code": user.fixmedins_code},
    )
    return user


def bootstrap_admin(session: Session) -> str | None:
    """On an empty store create `admin` with a random must-change password; return it (shown once)."""
    if session.execute(select(User.id).limit(1)).first():
        return None
    password = random_password()
    create_user(session, "admin", password, "admin", display_name="系统管理员", admdvs_scope="*", actor="system")
    oplog.append(session, "bootstrap", username="system", target="user:admin")
    return password


def change_password(
    session: Session, user: User, old: str, new: str, ip: str = "", keep_session: str | None = None
) -> list[str]:
    """Change the password (policy-checked); the user's other sessions end, `keep_session` stays."""
    problems = []
    if not verify_password(user.password_hash, old):
        problems.append("原密码不正确")
    problems += policy_problems(new, user.username)
    if old == new:
        problems.append("新密码不能与原密码相同")
    if problems:
        return problems
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.id != (keep_session or "")))
    oplog.append(
        session, "password_change", username=user.username, role=user.role, ip=ip, target=f"user:{user.username}"
    )
    return []


def _throttle(session: Session, key: str) -> LoginThrottle:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0)
        session.add(row)
    return row


def locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    row = session.get(LoginThrottle, key)
    if row and row.locked_until and row.locked_until > now:
        return row.locked_until
    return None


@dataclass
class LoginResult:
    user: User | None
    error: str = ""


def authenticate(session: Session, username: str, password: str, ip: str) -> LoginResult:
    """Check a login; count failures per account and per IP; lock both after MAX_FAILURES."""
    now = utcnow()
    keys = [f"user:{username}", f"ip:{ip}"]
    for key in keys:
        until = locked_until(session, key, now)
        if until:
            oplog.append(session, "login_failed", username=username, ip=ip, target=key, detail={"reason": "locked"})
            minutes = max(1, int((until - now).total_seconds() // 60) + 1)
            return LoginResult(None, f"登录失败次数过多，已锁定，请 {minutes} 分钟后再试或联系系统管理员")
    user = session.execute(select(User).where(User.username == username)).scalar()
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password) and bool(user and user.active)
    if ok:
        for key in keys:
            row = session.get(LoginThrottle, key)
            if row:
                session.delete(row)
        return LoginResult(user)
    for key in keys:
        row = _throttle(session, key)
        if row.first_failure_at is None or now - row.first_failure_at > timedelta(minutes=FAILURE_WINDOW_MINUTES):
            row.failures, row.first_failure_at = 0, now
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            row.failures, row.first_failure_at = 0, None
            oplog.append(
                session, "login_locked", username=username, ip=ip, target=key, detail={"minutes": LOCK_MINUTES}
            )
    oplog.append(
        session,
        "login_failed",
        username=username,
        ip=ip,
        target=f"user:{username}",
        detail={"reason": "bad_credentials"},
    )
    return LoginResult(None, "用户名或密码错误")


def unlock(session: Session, username: str, actor: User, ip: str = "") -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"user:{username}"))
    oplog.append(session, "user_unlock", username=actor.username, role=actor.role, ip=ip, target=f"user:{username}")


def open_session(session: Session, user: User, ip: str, timeout_minutes: int | None = None) -> WebSession:
    now = utcnow()
    if timeout_minutes:  # drop sessions abandoned without logout, so the table holds only live ones
        session.execute(delete(WebSession).where(WebSession.last_seen < now - timedelta(minutes=timeout_minutes)))
    ws = WebSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        ip=ip,
        created_at=now,
        last_seen=now,
    )
    session.add(ws)
    oplog.append(session, "login", username=user.username, role=user.role, ip=ip, target=f"user:{user.username}")
    return ws


def password_expired(user: User, now: datetime | None = None) -> bool:
    """True when the password is older than MAX_AGE_DAYS (counted from its last change, else account creation)."""
    since = user.password_changed_at or user.created_at
    return bool(since) and (now or utcnow()) - since > timedelta(days=MAX_AGE_DAYS)


def load_session(session: Session, token: str, timeout_minutes: int) -> tuple[WebSession, User] | str | None:
    """The live session for a cookie token, refreshing last_seen; "timeout" if it expired; None if unknown."""
    ws = session.get(WebSession, token) if token else None
    if ws is None:
        return None
    user = session.get(User, ws.user_id)
    now = utcnow()
    if user is None or not user.active:
        session.delete(ws)
        return None
    if now - ws.last_seen > timedelta(minutes=timeout_minutes):
        session.delete(ws)
        oplog.append(session, "session_timeout", username=user.username, role=user.role, ip=ws.ip)
        return "timeout"
    ws.last_seen = now
    return ws, user


def close_session(session: Session, ws: WebSession, user: User, ip: str) -> None:
    session.delete(ws)
    oplog.append(session, "logout", username=user.username, role=user.role, ip=ip)
