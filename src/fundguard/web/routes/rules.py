"""Rule library browser and the four-eyes change of a rule's region settings (propose → approve)."""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from fundguard.kb.types import KP_TYPES
from fundguard.store import rule_settings
from fundguard.store.models import RuleSetting, User
from fundguard.store.rule_settings import ProposalRefused
from fundguard.web import auth
from fundguard.web.data import Data, WarehouseMissing
from fundguard.web.rulebook import load_rule, load_rules

router = APIRouter()


def _rules(request: Request) -> dict[str, dict]:
    return load_rules(request.app.state.rules_dir)


def _kb_counts(request: Request, ctx: auth.Ctx) -> dict[str, int]:
    try:
        with Data(request.app.state.settings.warehouse, ctx.scope) as data:
            return data.kb_counts()
    except WarehouseMissing:
        return {}


def _user_names(s) -> dict[int, str]:
    return {u.id: u.display_name for u in s.query(User).all()}


@router.get("/rules")
def rules_list(request: Request, ctx: auth.Ctx = Depends(auth.need("rules"))):
    rules = _rules(request)
    with request.app.state.store.session() as s:
        settings = s.query(RuleSetting).order_by(RuleSetting.rule_code, RuleSetting.admdvs).all()
        pending = len(rule_settings.proposals(s, status="待审批"))
    overrides: dict[str, list] = {}
    for st in settings:
        if ctx.scope.allows_region(st.admdvs):
            overrides.setdefault(st.rule_code, []).append(st)
    return request.app.state.templates.TemplateResponse(
        request,
        "rules.html",
        {
            "ctx": ctx,
            "rules": rules,
            "kb_counts": _kb_counts(request, ctx),
            "overrides": overrides,
            "pending": pending,
            "KP_TYPES": KP_TYPES,
        },
    )


@router.get("/rules/proposals")
def proposals_list(
    request: Request, status: str = Query("", max_length=8), ctx: auth.Ctx = Depends(auth.need("rules"))
):
    if not (ctx.can("rule_propose") or ctx.can("rule_approve")):
        raise auth.Forbidden()
    with request.app.state.store.session() as s:
        items = [p for p in rule_settings.proposals(s, status=status or None) if ctx.scope.allows_region(p.admdvs)]
        names = _user_names(s)
    return request.app.state.templates.TemplateResponse(
        request,
        "proposals.html",
        {
            "ctx": ctx,
            "items": items,
            "names": names,
            "rules": _rules(request),
            "status": status,
            "error": request.query_params.get("error", ""),
        },
    )


@router.get("/rules/{code}")
def rule_detail(
    request: Request, code: str, page: int = Query(1, ge=1, le=1_000_000), ctx: auth.Ctx = Depends(auth.need("rules"))
):
    rule = load_rule(code, request.app.state.rules_dir)
    if rule is None:
        raise HTTPException(404, "规则不存在")
    kb_page = None
    try:
        with Data(request.app.state.settings.warehouse, ctx.scope) as data:
            kb_page = data.kb_points(list(rule.get("knowledge") or []), page, 50)
    except WarehouseMissing:
        pass
    with request.app.state.store.session() as s:
        props = [p for p in rule_settings.proposals(s, rule_code=code) if ctx.scope.allows_region(p.admdvs)]
        settings = [
            st
            for st in s.query(RuleSetting)
            .filter(RuleSetting.rule_code == code)
            .order_by(RuleSetting.admdvs, RuleSetting.effective_date)
            if ctx.scope.allows_region(st.admdvs)
        ]
        names = _user_names(s)
    regions = [r for r in (ctx.user.admdvs_scope or "").split(",") if r and r != "*"]
    return request.app.state.templates.TemplateResponse(
        request,
        "rule_detail.html",
        {
            "ctx": ctx,
            "rule": rule,
            "kb": kb_page,
            "props": props,
            "settings": settings,
            "names": names,
            "KP_TYPES": KP_TYPES,
            "regions": regions,
            "today": date.today().isoformat(),
            "error": request.query_params.get("error", ""),
            "form": {},
        },
    )


@router.post("/rules/{code}/propose")
async def rule_propose(
    request: Request,
    code: str,
    admdvs: str = Form(default="", max_length=6),
    enabled: str = Form(default="1", pattern=r"^[01]$"),
    effective_date: str = Form(default="", max_length=10),
    reason: str = Form(default="", max_length=1000),
    ctx: auth.Ctx = Depends(auth.need_post("rule_propose")),
):
    rule = load_rule(code, request.app.state.rules_dir)
    if rule is None:
        raise HTTPException(404, "规则不存在")
    form = await request.form()
    known = dict(rule.get("params") or {})
    params: dict = {}
    errors: list[str] = []
    for name in known:
        raw = str(form.get(f"param_{name}", "")).strip()
        if raw == "":
            continue
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw  # plain text value (e.g. a code list)
    try:
        with request.app.state.store.session() as s:
            rule_settings.propose(
                s,
                s.get(User, ctx.user.id),
                code,
                admdvs.strip(),
                enabled == "1",
                params,
                effective_date.strip(),
                reason,
                known_params=set(known),
                ip=ctx.ip,
            )
    except ProposalRefused as e:
        errors.append(str(e))
    if errors:
        from urllib.parse import quote

        return RedirectResponse(f"/rules/{quote(code)}?error={quote('；'.join(errors))}#propose", status_code=303)
    return RedirectResponse(f"/rules/{code}#proposals", status_code=303)


@router.post("/rules/proposals/{proposal_id}/{decision}")
def proposal_decide(
    request: Request,
    proposal_id: int,
    decision: str,
    note: str = Form(default="", max_length=1000),
    ctx: auth.Ctx = Depends(auth.need_post("rule_approve")),
):
    if decision not in ("approve", "reject"):
        raise HTTPException(404)
    try:
        with request.app.state.store.session() as s:
            from fundguard.store.models import RuleProposal

            p = s.get(RuleProposal, proposal_id)
            if p is None or not ctx.scope.allows_region(p.admdvs):
                raise HTTPException(404, "申请不存在或不在您的数据权限范围内")
            rule_settings.decide(s, s.get(User, ctx.user.id), proposal_id, decision == "approve", note.strip(), ctx.ip)
    except ProposalRefused as e:
        from urllib.parse import quote

        return RedirectResponse(f"/rules/proposals?error={quote(str(e))}", status_code=303)
    return RedirectResponse("/rules/proposals", status_code=303)
