"""The FastAPI application: `create_app(settings)` wires store, templates, routes and the Chinese error pages."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from fundguard.config import Settings, load_settings
from fundguard.store.db import Store
from fundguard.store.users import bootstrap_admin
from fundguard.web import auth
from fundguard.web.data import Data, WarehouseMissing
from fundguard.web.rulebook import load_rules
from fundguard.web.templating import make_templates

HERE = Path(__file__).resolve().parent
log = logging.getLogger("fundguard.web")

STATUS_ZH = {
    400: ("请求无效", "请求格式不正确，请返回重试。"),
    401: ("未登录", "请先登录。"),
    403: ("禁止访问", "您无权访问此页面或执行此操作。"),
    404: ("页面不存在", "您访问的页面或数据不存在，或不在您的数据权限范围内。"),
    405: ("请求方法不允许", "该地址不支持此请求方法。"),
    413: ("请求过大", "提交的内容过大。"),
    422: ("提交内容有误", "请检查填写的内容。"),
    500: ("系统内部错误", "系统处理请求时发生错误，已记录，请稍后重试或联系系统管理员。"),
}
FIELD_ZH = {
    "page": "页码",
    "size": "每页条数",
    "amount_min": "最小金额",
    "amount_max": "最大金额",
    "username": "用户名",
    "password": "密码",
    "conclusion": "审核结论",
    "note": "审核意见",
    "proposal_id": "申请编号",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(
    settings: Settings | None = None, *, rules_dir: Path | None = None, store: Store | None = None
) -> FastAPI:
    """Build the app. Migrates the workflow store and creates the first administrator if there is none;
    the one-time admin password is then in `app.state.initial_admin_password` (for `fundguard serve`)."""
    settings = settings or load_settings()
    store = store or Store(settings.store_url)
    with store.session() as s:
        initial = bootstrap_admin(s)

    app = FastAPI(title="医保基金智能监管稽核平台", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.store = store
    app.state.rules_dir = rules_dir
    app.state.initial_admin_password = initial
    app.state.templates = make_templates(HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response: Response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            if k == "Cache-Control" and request.url.path.startswith("/static/"):
                continue
            response.headers.setdefault(k, v)
        return response

    _install_error_pages(app)
    # Parse the rule library in the background so the first visit to the rule pages is not slow.
    threading.Thread(target=load_rules, args=(rules_dir,), daemon=True, name="rulebook-warmup").start()

    from fundguard.web.routes import admin, auth_routes, dashboard, findings, rules

    for mod in (auth_routes, dashboard, findings, rules, admin):
        app.include_router(mod.router)
    return app


def open_data(request: Request, ctx: auth.Ctx) -> Data:
    """The warehouse, read-only, bound to the user's scope."""
    return Data(request.app.state.settings.warehouse, ctx.scope)


def error_page(request: Request, status: int, message: str | None = None, details: list[str] | None = None) -> Response:
    title, default = STATUS_ZH.get(status, (f"错误 {status}", "请求未能完成。"))
    templates = request.app.state.templates
    ctx = getattr(request.state, "ctx", None)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message or default, "details": details or [], "ctx": ctx},
        status_code=status,
    )


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(auth.LoginRequired)
    async def _login(request: Request, exc: auth.LoginRequired):
        target = "/login" + ("?timeout=1" if exc.reason == "timeout" else "")
        if request.method == "GET" and not _is_htmx(request) and request.url.path != "/":
            sep = "&" if "?" in target else "?"
            target += f"{sep}next={quote(request.url.path + ('?' + request.url.query if request.url.query else ''))}"
        if _is_htmx(request) or request.method != "GET":
            return HTMLResponse("未登录或会话已超时，请重新登录。", status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(auth.PasswordChangeRequired)
    async def _pw(request: Request, exc: auth.PasswordChangeRequired):
        if _is_htmx(request) or request.method != "GET":
            return HTMLResponse("首次登录须先修改密码。", status_code=403, headers={"HX-Redirect": "/password"})
        return RedirectResponse("/password", status_code=303)

    @app.exception_handler(auth.Forbidden)
    async def _forbidden(request: Request, exc: auth.Forbidden):
        return error_page(request, 403, exc.message)

    @app.exception_handler(auth.CsrfFailed)
    async def _csrf(request: Request, exc: auth.CsrfFailed):
        return error_page(request, 403, "安全校验失败（CSRF 令牌缺失或无效），请刷新页面后重试。")

    @app.exception_handler(WarehouseMissing)
    async def _nowh(request: Request, exc: WarehouseMissing):
        return error_page(request, 503, f"数据仓库尚未建立或缺少数据表（{exc}），请先导入数据并运行筛查。")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        msg = exc.detail if isinstance(exc.detail, str) and _has_cjk(exc.detail) else None
        return error_page(request, exc.status_code, msg)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        details = []
        for err in exc.errors():
            loc = [str(x) for x in err.get("loc", []) if x not in ("query", "body", "path", "form")]
            name = "、".join(FIELD_ZH.get(x, x) for x in loc) or "参数"
            details.append(f"{name}：{_validation_zh(err)}")
        return error_page(request, 422, "提交的内容不符合要求，请修改后重试。", details)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return error_page(request, 500)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _validation_zh(err: dict) -> str:
    kind = err.get("type", "")
    return {
        "missing": "必填",
        "int_parsing": "须为整数",
        "float_parsing": "须为数字",
        "greater_than_equal": "数值过小",
        "less_than_equal": "数值过大",
        "string_too_long": "内容过长",
        "string_too_short": "内容过短",
        "string_pattern_mismatch": "格式不正确",
        "bool_parsing": "须为是或否",
    }.get(kind, "取值无效")
