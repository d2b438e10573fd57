"""Request context: who is logged in, what they may see and do, and the CSRF check on state changes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Depends, Request

from fundguard.store import users
from fundguard.store.models import User, WebSession
from fundguard.store.roles import can
from fundguard.web.scope import Scope

SESSION_COOKIE = "fg_session"
PRELOGIN_COOKIE = "fg_pre"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Pages a must-change-password user may still reach.
PASSWORD_EXEMPT = ("/password", "/logout")


class LoginRequired(Exception):
    def __init__(self, reason: str = ""):
        self.reason = reason


class PasswordChangeRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "您无权执行此操作"):
        self.message = message


class CsrfFailed(Exception):
    pass


@dataclass
class Ctx:
    user: User
    ws: WebSession
    scope: Scope
    ip: str

    @property
    def csrf(self) -> str:
        return self.ws.csrf_token

    def can(self, permission: str) -> bool:
        return can(self.user.role, permission)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current(request: Request) -> Ctx:
    """The logged-in user's context; raises LoginRequired / PasswordChangeRequired."""
    cached = getattr(request.state, "ctx", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise LoginRequired()
    store = request.app.state.store
    timeout = request.app.state.settings.session_timeout_minutes
    with store.session() as s:
        found = users.load_session(s, token, timeout)
    if found is None:
        raise LoginRequired()
    if found == "timeout":
        raise LoginRequired("timeout")
    ws, user = found
    ctx = Ctx(user=user, ws=ws, scope=Scope.for_user(user), ip=client_ip(request))
    request.state.ctx = ctx
    must_change = user.must_change_password or users.password_expired(user)
    if must_change and not request.url.path.startswith(PASSWORD_EXEMPT):
        raise PasswordChangeRequired()
    return ctx


def need(permission: str):
    """Dependency: logged in and holding `permission`."""

    def dep(ctx: Ctx = Depends(current)) -> Ctx:
        if not ctx.can(permission):
            raise Forbidden()
        return ctx

    return dep


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = str(form.get(CSRF_FIELD, ""))
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise CsrfFailed()


def need_post(permission: str | None = None):
    """Dependency for state-changing requests: logged in, permitted, and a valid CSRF token."""

    async def dep(request: Request, ctx: Ctx = Depends(current)) -> Ctx:
        await check_csrf(request, ctx.csrf)
        if permission and not ctx.can(permission):
            raise Forbidden()
        return ctx

    return dep
