"""Region overrides of rule types, changed only with two people (four-eyes: propose, then approve).

The engine reads the approved overrides with `active_overrides(session, admdvs)`:

    from fundguard.store.db import Store
    from fundguard.store.rule_settings import active_overrides
    with Store(settings.store_url).session() as s:
        overrides = active_overrides(s, "230100")
    # {"GZ10000301004000": {"enabled": False, "params": {"child_max_age": 14},
    #                       "effective_date": "2025-01-01", "setting_id": 3}}

Per rule code the newest setting whose effective_date is on or before `on` (default today) wins.
`params` maps a parameter name to the value in force from effective_date on.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.store import oplog
from fundguard.store.db import utcnow
from fundguard.store.models import RuleProposal, RuleSetting, User
from fundguard.store.roles import can


class ProposalRefused(Exception):
    """Not allowed or not valid; the message is Chinese."""


def _check_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ProposalRefused("生效日期格式应为 YYYY-MM-DD") from None


def propose(
    session: Session,
    user: User,
    rule_code: str,
    admdvs: str,
    enabled: bool,
    params: dict,
    effective_date: str,
    reason: str,
    known_params: set[str] | None = None,
    ip: str = "",
) -> RuleProposal:
    if not can(user.role, "rule_propose"):
        raise ProposalRefused("您的角色无权提出规则调整")
    if not (len(admdvs) == 6 and admdvs.isdigit()):
        raise ProposalRefused("医保区划须为 6 位数字")
    scope = [s for s in user.admdvs_scope.split(",") if s]
    if "*" not in scope and admdvs not in scope:
        raise ProposalRefused("只能为本人数据权限范围内的统筹区提出调整")
    if known_params is not None:
        unknown = sorted(set(params) - known_params)
        if unknown:
            raise ProposalRefused("未知参数：" + "、".join(unknown))
    if not reason.strip():
        raise ProposalRefused("请填写调整理由")
    p = RuleProposal(
        rule_code=rule_code,
        admdvs=admdvs,
        enabled=enabled,
        params_json=json.dumps(params, ensure_ascii=False, sort_keys=True),
        effective_date=_check_date(effective_date),
        reason=reason.strip(),
        status="待审批",
        proposed_by=user.id,
        proposed_at=utcnow(),
    )
    session.add(p)
    session.flush()
    oplog.append(
        session,
        "rule_propose",
        username=user.username,
        role=user.role,
        ip=ip,
        target=f"rule:{rule_code}:{admdvs}",
        detail={
            "proposal_id": p.id,
            "enabled": enabled,
            "params": params,
            "effective_date": p.effective_date,
            "reason": p.reason,
        },
    )
    return p


def decide(session: Session, user: User, proposal_id: int, approve: bool, note: str = "", ip: str = "") -> RuleProposal:
    p = session.get(RuleProposal, proposal_id, with_for_update=True)
    if p is None:
        raise ProposalRefused("申请不存在")
    if not can(user.role, "rule_approve"):
        raise ProposalRefused("只有科长或系统管理员可以审批规则调整")
    if p.proposed_by == user.id:
        raise ProposalRefused("不能审批本人提出的申请（须由另一人审批）")
    if p.status != "待审批":
        raise ProposalRefused(f"该申请已{p.status}")
    now = utcnow()
    p.status = "已批准" if approve else "已驳回"
    p.decided_by, p.decided_at, p.decision_note = user.id, now, note
    if approve:
        existing = session.execute(
            select(RuleSetting).where(
                RuleSetting.rule_code == p.rule_code,
                RuleSetting.admdvs == p.admdvs,
                RuleSetting.effective_date == p.effective_date,
            )
        ).scalar()
        if existing is not None:  # a later approval for the same day replaces the earlier one
            session.delete(existing)
            session.flush()
        session.add(
            RuleSetting(
                rule_code=p.rule_code,
                admdvs=p.admdvs,
                enabled=p.enabled,
                params_json=p.params_json,
                effective_date=p.effective_date,
                proposal_id=p.id,
                approved_by=user.id,
                approved_at=now,
            )
        )
    oplog.append(
        session,
        "rule_approve" if approve else "rule_reject",
        username=user.username,
        role=user.role,
        ip=ip,
        target=f"rule:{p.rule_code}:{p.admdvs}",
        detail={"proposal_id": p.id, "note": note},
    )
    session.flush()
    return p


def active_overrides(session: Session, admdvs: str, on: date | None = None) -> dict[str, dict]:
    """Approved overrides in force for a region on a date: rule_code → {enabled, params, effective_date, setting_id}."""
    day = (on or date.today()).isoformat()
    rows = session.execute(
        select(RuleSetting)
        .where(RuleSetting.admdvs == admdvs, RuleSetting.effective_date <= day)
        .order_by(RuleSetting.rule_code, RuleSetting.effective_date, RuleSetting.id)
    ).scalars()
    out: dict[str, dict] = {}
    for r in rows:  # ordered by date, so the newest in force overwrites older ones
        out[r.rule_code] = {
            "enabled": r.enabled,
            "params": json.loads(r.params_json or "{}"),
            "effective_date": r.effective_date,
            "setting_id": r.id,
        }
    return out


def proposals(session: Session, rule_code: str | None = None, status: str | None = None) -> list[RuleProposal]:
    q = select(RuleProposal).order_by(RuleProposal.id.desc())
    if rule_code:
        q = q.where(RuleProposal.rule_code == rule_code)
    if status:
        q = q.where(RuleProposal.status == status)
    return list(session.execute(q).scalars())
