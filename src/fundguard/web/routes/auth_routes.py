"""Login, logout, forced and voluntary password change."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from fundguard.store import users
from fundguard.store.models import User
from fundguard.web import auth

router = APIRouter()


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def home_for(role: str) -> str:
    return "/admin/users" if role == "admin" else "/dashboard"


def _login_page(request: Request, error: str = "", next_: str = "/", username: str = "", status: int = 200) -> Response:
    token = request.cookies.get(auth.PRELOGIN_COOKIE) or secrets.token_urlsafe(32)
    notice = "会话已超时，请重新登录。" if request.query_params.get("timeout") else ""
    resp = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"error": error, "notice": notice, "next": next_, "username": username, "pre_token": token, "ctx": None},
        status_code=status,
    )
    resp.set_cookie(auth.PRELOGIN_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return resp


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return _login_page(request, next_=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: str = Form(default="", max_length=64),
    password: str = Form(default="", max_length=256),
    csrf_token: str = Form(default=""),
    next: str = Form(default="/"),
):
    # Login CSRF: the form must echo the random token set in a cookie when the form was served.
    expected = request.cookies.get(auth.PRELOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token, expected):
        raise auth.CsrfFailed()
    if not username or not password:
        return _login_page(request, "请输入用户名和密码", _safe_next(next), username, 400)
    ip = auth.client_ip(request)
    store = request.app.state.store
    with store.session() as s:
        result = users.authenticate(s, username.strip(), password, ip)
        if result.user is None:
            error = result.error
            ws = None
        else:
            ws = users.open_session(s, result.user, ip, request.app.state.settings.session_timeout_minutes)
            user: User = result.user
    if ws is None:
        return _login_page(request, error, _safe_next(next), username, 401)
    safe = _safe_next(next)
    landing = safe if safe != "/" else home_for(user.role)
    target = "/password" if user.must_change_password else landing
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(auth.SESSION_COOKIE, ws.id, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    resp.delete_cookie(auth.PRELOGIN_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, ctx: auth.Ctx = Depends(auth.need_post())):
    with request.app.state.store.session() as s:
        ws = s.get(type(ctx.ws), ctx.ws.id)
        if ws is not None:
            users.close_session(s, ws, ctx.user, ctx.ip)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(auth.SESSION_COOKIE)
    return resp


@router.get("/")
def root(ctx: auth.Ctx = Depends(auth.current)):
    return RedirectResponse(home_for(ctx.user.role), status_code=303)


@router.get("/password")
def password_form(request: Request, ctx: auth.Ctx = Depends(auth.current)):
    return request.app.state.templates.TemplateResponse(
        request, "password.html", {"ctx": ctx, "errors": [], "expired": users.password_expired(ctx.user)}
    )


@router.post("/password")
def password_change(
    request: Request,
    old_password: str = Form(default="", max_length=256),
    new_password: str = Form(default="", max_length=256),
    new_password2: str = Form(default="", max_length=256),
    ctx: auth.Ctx = Depends(auth.need_post()),
):
    errors: list[str] = []
    if new_password != new_password2:
        errors.append("两次输入的新密码不一致")
    else:
        with request.app.state.store.session() as s:
            user = s.get(User, ctx.user.id)
            errors = users.change_password(s, user, old_password, new_password, ctx.ip, keep_session=ctx.ws.id)
    if errors:
        return request.app.state.templates.TemplateResponse(
            request,
            "password.html",
            {"ctx": ctx, "errors": errors, "expired": users.password_expired(ctx.user)},
            status_code=400,
        )
    return RedirectResponse(home_for(ctx.user.role) + "?pw=1", status_code=303)
