"""Three-level review (初审 → 复审 → 终审) of findings, keyed by finding_id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.store import oplog
from fundguard.store.db import utcnow
from fundguard.store.models import Review, ReviewStep, User
from fundguard.store.roles import CONCLUSIONS, REVIEW_STEPS


class ReviewRefused(Exception):
    """The user may not take this step now; the message is Chinese and shown as is."""


def status_of(session: Session, finding_id: str) -> str:
    r = session.get(Review, finding_id)
    return r.status if r else "待初审"


def next_step(role: str, status: str) -> str | None:
    """The step this role may take on a finding in this status, or None."""
    spec = REVIEW_STEPS.get(role)
    if not spec:
        return None
    step, required, _after = spec
    return step if (required or "待初审") == status else None


def record(session: Session, user: User, finding_id: str, conclusion: str, note: str, ip: str = "") -> Review:
    if user.role not in REVIEW_STEPS:
        raise ReviewRefused("您的角色无审核权限")
    if conclusion not in CONCLUSIONS:
        raise ReviewRefused("请选择审核结论：" + "、".join(CONCLUSIONS))
    if len(note) > 2000:
        raise ReviewRefused("审核意见不超过 2000 字")
    current = session.get(Review, finding_id, with_for_update=True)
    status = current.status if current else "待初审"
    step, required, after = REVIEW_STEPS[user.role]
    if (required or "待初审") != status:
        raise ReviewRefused(f"该疑点当前状态为「{status}」，{step}须在「{required or '待初审'}」状态下进行")
    if step != "初审":
        earlier = session.execute(select(ReviewStep.user_id).where(ReviewStep.finding_id == finding_id)).scalars().all()
        if user.id in earlier:
            raise ReviewRefused("同一人不得对同一疑点进行两级审核")
    now = utcnow()
    if current is None:
        current = Review(finding_id=finding_id, status=after, conclusion=conclusion, updated_at=now, updated_by=user.id)
        session.add(current)
    else:
        current.status, current.conclusion, current.updated_at, current.updated_by = after, conclusion, now, user.id
    session.add(ReviewStep(finding_id=finding_id, step=step, conclusion=conclusion, note=note, user_id=user.id, at=now))
    oplog.append(
        session,
        "review",
        username=user.username,
        role=user.role,
        ip=ip,
        target=f"finding:{finding_id}",
        detail={"step": step, "from": status, "to": after, "conclusion": conclusion, "note": note},
    )
    session.flush()
    return current


def history(session: Session, finding_id: str) -> list[tuple[ReviewStep, str]]:
    rows = session.execute(
        select(ReviewStep, User.display_name)
        .join(User, User.id == ReviewStep.user_id)
        .where(ReviewStep.finding_id == finding_id)
        .order_by(ReviewStep.id)
    ).all()
    return [(r, name) for r, name in rows]


def ids_with_status(session: Session, statuses: list[str]) -> list[str]:
    return list(session.execute(select(Review.finding_id).where(Review.status.in_(statuses))).scalars())


def statuses_for(session: Session, finding_ids: list[str], chunk: int = 5000) -> dict[str, str]:
    """Review status of each listed finding that has one (chunked: IN lists have driver limits)."""
    out: dict[str, str] = {}
    for i in range(0, len(finding_ids), chunk):
        part = finding_ids[i : i + chunk]
        out.update(session.execute(select(Review.finding_id, Review.status).where(Review.finding_id.in_(part))).all())
    return out
