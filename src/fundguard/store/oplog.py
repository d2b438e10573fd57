"""Append-only, hash-chained operation log (操作留痕).

Each row stores sha256(canonical JSON of its content + the previous row's hash). Changing, deleting or
reordering any row breaks the chain from that row on; `verify` names the first broken row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fundguard.store.db import utcnow
from fundguard.store.models import OpLog

GENESIS = "0" * 64

# Action codes and their Chinese names (shown in the log viewer).
ACTIONS: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_locked": "账号/地址锁定",
    "logout": "退出",
    "session_timeout": "会话超时",
    "password_change": "修改密码",
    "user_create": "新建用户",
    "user_update": "修改用户",
    "password_reset": "重置密码",
    "user_unlock": "解除锁定",
    "review": "疑点审核",
    "unmask": "查看个人信息",
    "export": "导出",
    "rule_propose": "规则调整申请",
    "rule_approve": "规则调整批准",
    "rule_reject": "规则调整驳回",
    "oplog_verify": "日志校验",
    "migrate": "数据库迁移",
    "bootstrap": "初始化管理员",
}


def row_digest(
    *, id: int, ts: str, username: str, role: str, ip: str, action: str, target: str, detail: str, prev_hash: str
) -> str:
    payload = json.dumps(
        [id, ts, username, role, ip, action, target, detail, prev_hash], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_chain(session: Session) -> None:
    """Serialise appends so two writers never chain onto the same previous row."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    else:
        # SQLite: a write statement (matching no row) takes the database's write lock now, before the last
        # hash is read; a concurrent appender waits (busy_timeout) instead of chaining onto a stale hash.
        session.execute(text("UPDATE oplog SET id = id WHERE 0 = 1"))


def append(
    session: Session,
    action: str,
    *,
    username: str,
    role: str = "",
    ip: str = "",
    target: str = "",
    detail: dict | str | None = None,
) -> OpLog:
    """Add one log row in the caller's transaction (so the change and its log commit together)."""
    _lock_chain(session)
    last = session.execute(select(OpLog.row_hash).order_by(OpLog.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    detail_text = detail if isinstance(detail, str) else json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
    row = OpLog(
        ts=utcnow().isoformat(timespec="microseconds"),
        username=username,
        role=role,
        ip=ip,
        action=action,
        target=target[:256],
        detail=detail_text,
        prev_hash=prev,
        row_hash="",
    )
    session.add(row)
    session.flush()  # assigns the id, which is part of the hashed content
    row.row_hash = row_digest(
        id=row.id,
        ts=row.ts,
        username=row.username,
        role=row.role,
        ip=row.ip,
        action=row.action,
        target=row.target,
        detail=row.detail,
        prev_hash=row.prev_hash,
    )
    session.flush()
    return row


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    broken_id: int | None = None
    reason_zh: str = ""
    reason_en: str = ""


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first row whose hash or link does not hold."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = session.execute(select(OpLog).where(OpLog.id > last_id).order_by(OpLog.id).limit(batch)).scalars().all()
        if not rows:
            return VerifyResult(True, count)
        for r in rows:
            if r.prev_hash != prev:
                return VerifyResult(
                    False,
                    count,
                    r.id,
                    f"第 {r.id} 条记录的前序哈希与上一条不符（记录被删除或插入）",
                    f"row {r.id}: previous-hash link broken (a row was deleted or inserted)",
                )
            digest = row_digest(
                id=r.id,
                ts=r.ts,
                username=r.username,
                role=r.role,
                ip=r.ip,
                action=r.action,
                target=r.target,
                detail=r.detail,
                prev_hash=r.prev_hash,
            )
            if digest != r.row_hash:
                return VerifyResult(
                    False,
                    count,
                    r.id,
                    f"第 {r.id} 条记录内容与其哈希不符（记录被篡改）",
                    f"row {r.id}: content does not match its hash (row was altered)",
                )
            prev = r.row_hash
            count += 1
            last_id = r.id
        session.expunge_all()
