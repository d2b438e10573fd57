"""System administration: users (create, change role/scope, disable, reset password, unlock) and the operation log."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from fundguard.errors import FundguardError
from fundguard.store import oplog, users
from fundguard.store.models import LoginThrottle, OpLog, User, WebSession
from fundguard.store.passwords import hash_password, random_password
from fundguard.web import auth

router = APIRouter(prefix="/admin")


def _users_page(request: Request, ctx: auth.Ctx, error: str = "", notice: str = "", status: int = 200):
    with request.app.state.store.session() as s:
        items = s.execute(select(User).order_by(User.id)).scalars().all()
        locks = {
            t.key[5:]: t.locked_until
            for t in s.execute(select(LoginThrottle)).scalars()
            if t.key.startswith("user:") and t.locked_until
        }
    return request.app.state.templates.TemplateResponse(
        request,
        "admin_users.html",
        {"ctx": ctx, "items": items, "locks": locks, "error": error, "notice": notice},
        status_code=status,
    )


@router.get("/users")
def users_list(request: Request, ctx: auth.Ctx = Depends(auth.need("users"))):
    return _users_page(request, ctx, notice=request.query_params.get("notice", ""))


@router.post("/users")
def user_create(
    request: Request,
    username: str = Form(default="", max_length=64),
    display_name: str = Form(default="", max_length=64),
    role: str = Form(default="", max_length=16),
    admdvs_scope: str = Form(default="", max_length=512),
    fixmedins_code: str = Form(default="", max_length=32),
    ctx: auth.Ctx = Depends(auth.need_post("users")),
):
    password = random_password()
    try:
        with request.app.state.store.session() as s:
            users.create_user(
                s,
                username.strip(),
                password,
                role,
                display_name=display_name.strip(),
                admdvs_scope=admdvs_scope,
                fixmedins_code=fixmedins_code.strip() or None,
                must_change=True,
                actor=ctx.user.username,
                actor_role=ctx.user.role,
                ip=ctx.ip,
            )
    except FundguardError as e:
        return _users_page(request, ctx, error=e.zh, status=400)
    return _users_page(
        request, ctx, notice=f"已创建用户 {username}，初始密码：{password}（仅显示一次，首次登录须修改）"
    )


@router.post("/users/{user_id}")
def user_update(
    request: Request,
    user_id: int,
    role: str = Form(default="", max_length=16),
    admdvs_scope: str = Form(default="", max_length=512),
    fixmedins_code: str = Form(default="", max_length=32),
    active: str = Form(default="1", pattern=r"^[01]$"),
    ctx: auth.Ctx = Depends(auth.need_post("users")),
):
    with request.app.state.store.session() as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, "用户不存在")
        problems = users.validate_user_fields(u.username, role, admdvs_scope, fixmedins_code.strip() or None)
        if u.id == ctx.user.id and (active != "1" or role != "admin"):
            problems.append("不能停用自己或取消自己的管理员角色")
        if problems:
            return _users_page(request, ctx, error="；".join(problems), status=400)
        before = {
            "role": u.role,
            "admdvs_scope": u.admdvs_scope,
            "fixmedins_code": u.fixmedins_code,
            "active": u.active,
        }
        u.role = role
        u.admdvs_scope = ",".join(users.parse_scope(admdvs_scope))
        u.fixmedins_code = fixmedins_code.strip() or None
        u.active = active == "1"
        if not u.active:
            s.query(WebSession).filter(WebSession.user_id == u.id).delete()
        after = {"role": u.role, "admdvs_scope": u.admdvs_scope, "fixmedins_code": u.fixmedins_code, "active": u.active}
        oplog.append(
            s,
            "user_update",
            username=ctx.user.username,
            role=ctx.user.role,
            ip=ctx.ip,
            target=f"user:{u.username}",
            detail={"before": before, "after": after},
        )
    return RedirectResponse("/admin/users?notice=" + quote("已保存"), status_code=303)


@router.post("/users/{user_id}/reset")
def user_reset(request: Request, user_id: int, ctx: auth.Ctx = Depends(auth.need_post("users"))):
    password = random_password()
    with request.app.state.store.session() as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, "用户不存在")
        u.password_hash = hash_password(password)
        u.must_change_password = True
        s.query(WebSession).filter(WebSession.user_id == u.id).delete()
        oplog.append(
            s, "password_reset", username=ctx.user.username, role=ctx.user.role, ip=ctx.ip, target=f"user:{u.username}"
        )
        name = u.username
    return _users_page(
        request, ctx, notice=f"已重置 {name} 的密码，新初始密码：{password}（仅显示一次，首次登录须修改）"
    )


@router.post("/users/{user_id}/unlock")
def user_unlock(request: Request, user_id: int, ctx: auth.Ctx = Depends(auth.need_post("users"))):
    with request.app.state.store.session() as s:
        u = s.get(User, user_id)
        if u is None:
            raise HTTPException(404, "用户不存在")
        users.unlock(s, u.username, ctx.user, ctx.ip)
    return RedirectResponse("/admin/users?notice=" + quote("已解除锁定"), status_code=303)


@router.get("/oplog")
def oplog_list(
    request: Request,
    action: str = Query("", max_length=32),
    username: str = Query("", max_length=64),
    page: int = Query(1, ge=1, le=1_000_000),
    ctx: auth.Ctx = Depends(auth.need("oplog")),
):
    size = 50
    with request.app.state.store.session() as s:
        q = select(OpLog)
        cq = select(func.count(OpLog.id))
        if action:
            q, cq = q.where(OpLog.action == action), cq.where(OpLog.action == action)
        if username:
            q, cq = q.where(OpLog.username == username), cq.where(OpLog.username == username)
        total = s.execute(cq).scalar() or 0
        rows = s.execute(q.order_by(OpLog.id.desc()).limit(size).offset((page - 1) * size)).scalars().all()
    return request.app.state.templates.TemplateResponse(
        request,
        "oplog.html",
        {
            "ctx": ctx,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // size)),
            "q": {"action": action, "username": username},
            "result": None,
        },
    )


@router.post("/oplog/verify")
def oplog_verify(request: Request, ctx: auth.Ctx = Depends(auth.need_post("oplog"))):
    with request.app.state.store.session() as s:
        result = oplog.verify(s)
    with request.app.state.store.session() as s:
        oplog.append(
            s,
            "oplog_verify",
            username=ctx.user.username,
            role=ctx.user.role,
            ip=ctx.ip,
            detail={"ok": result.ok, "rows": result.rows, "broken_id": result.broken_id},
        )
        rows = s.execute(select(OpLog).order_by(OpLog.id.desc()).limit(50)).scalars().all()
        total = s.execute(select(func.count(OpLog.id))).scalar() or 0
    return request.app.state.templates.TemplateResponse(
        request,
        "oplog.html",
        {
            "ctx": ctx,
            "rows": rows,
            "total": total,
            "page": 1,
            "pages": max(1, -(-total // 50)),
            "q": {"action": "", "username": ""},
            "result": result,
        },
    )
