"""The machine-to-machine audit APIs (事中 settlement, 事前 prescription) as a FastAPI router.

Mount it into any FastAPI app (``app.include_router(create_audit_router())``) or run it alone
(``fundguard audit serve``). Configuration comes from the arguments or from the environment:
FUNDGUARD_AUDIT_HISTORY (history store), FUNDGUARD_AUDIT_LOG (call-log SQLite file),
FUNDGUARD_AUDIT_TOKEN (optional shared secret, sent as ``Authorization: Bearer …``),
FUNDGUARD_AUDIT_POOL (evaluation contexts per process), FUNDGUARD_AUDIT_PARALLEL (cursors planning
rule queries in parallel per context, default 1: with pruned passes a second cursor was slower
on 2 cores), FUNDGUARD_AUDIT_MAX_BATCH (claims per pass, default
128), FUNDGUARD_AUDIT_PRUNE (0 runs every rule of the stage on every pass instead of only those that
can fire; default 1), FUNDGUARD_AUDIT_MAX_WAIT_MS (a claim still queued after this many ms is answered
at once with 503 审核繁忙 instead of holding the counter; default 5000, 0 = no limit),
FUNDGUARD_AUDIT_EXECUTOR (sqlite: rule statements compiled once, the default; duckdb: planned per pass;
decision 0015), FUNDGUARD_ADMDVS (region).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import os
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fundguard.errors import FundguardError, Problem
from fundguard.realtime.auditor import DEFAULT_EXECUTOR, PASS, SUSPECT, VIOLATION, Auditor
from fundguard.realtime.calllog import CallLog, CallRecord
from fundguard.realtime.messages import MessageError, parse

DEFAULT_HISTORY = "var/audit-history.duckdb"
DEFAULT_LOG = "var/audit-calls.sqlite"
# A counter waits a few seconds at most for the 事中 answer; beyond that the server says "busy" at once
# instead of letting an overloaded queue hold every later claim too (docs/decisions/0014).
DEFAULT_MAX_WAIT_MS = 5000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


class AuditService:
    """The auditor and the call log, created on first use (so mounting the router costs nothing)."""

    def __init__(
        self,
        auditor: Auditor | None = None,
        calllog: CallLog | None = None,
        history: str | Path | None = None,
        log_path: str | Path | None = None,
        token: str | None = None,
        pool_size: int | None = None,
    ):
        self._auditor = auditor
        self._calllog = calllog
        self.history = Path(history or os.environ.get("FUNDGUARD_AUDIT_HISTORY") or DEFAULT_HISTORY)
        self.log_path = Path(log_path or os.environ.get("FUNDGUARD_AUDIT_LOG") or DEFAULT_LOG)
        self.token = token if token is not None else os.environ.get("FUNDGUARD_AUDIT_TOKEN") or None
        self.pool_size = pool_size or int(os.environ.get("FUNDGUARD_AUDIT_POOL") or 1)
        self.parallel = int(os.environ.get("FUNDGUARD_AUDIT_PARALLEL") or 1)  # 1 measured faster than 2 (2 cores)
        self.max_batch = int(os.environ.get("FUNDGUARD_AUDIT_MAX_BATCH") or 128)
        self.prune = (os.environ.get("FUNDGUARD_AUDIT_PRUNE") or "1").strip() not in ("0", "false", "no")
        self.max_wait_ms = parse_max_wait_ms(os.environ.get("FUNDGUARD_AUDIT_MAX_WAIT_MS"))
        self.executor = (os.environ.get("FUNDGUARD_AUDIT_EXECUTOR") or DEFAULT_EXECUTOR).strip().lower()
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._auditor is not None

    @property
    def auditor(self) -> Auditor:
        if self._auditor is None:
            with self._lock:
                if self._auditor is None:
                    self._auditor = Auditor(
                        self.history,
                        pool_size=self.pool_size,
                        parallel=self.parallel,
                        max_batch=self.max_batch,
                        prune=self.prune,
                        max_wait=self.max_wait_ms / 1000 if self.max_wait_ms > 0 else None,
                        executor=self.executor,
                    )
        return self._auditor

    @property
    def calllog(self) -> CallLog:
        if self._calllog is None:
            with self._lock:
                if self._calllog is None:
                    self._calllog = CallLog(self.log_path)
        return self._calllog

    def close(self) -> None:
        if self._calllog is not None:
            self._calllog.close()
        if self._auditor is not None:
            self._auditor.close()


def parse_max_wait_ms(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return DEFAULT_MAX_WAIT_MS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise FundguardError(
            "环境变量 FUNDGUARD_AUDIT_MAX_WAIT_MS 应为不小于 0 的毫秒数（0 表示不限）",
            "FUNDGUARD_AUDIT_MAX_WAIT_MS must be a number of milliseconds >= 0 (0: no limit)",
            [
                Problem(
                    "环境变量",
                    "不是非负数",
                    "not a non-negative number",
                    field="FUNDGUARD_AUDIT_MAX_WAIT_MS",
                    value=raw,
                )
            ],
        )
    return value


def _error_body(e: FundguardError, msgid: str | None) -> dict[str, Any]:
    return {
        "infcode": -1,
        "err_msg": f"{e.zh} / {e.en}",
        "inf_refmsgid": msgid,
        "output": None,
        "errors": [p.as_dict() for p in e.problems],
    }


def _authorized(service: AuditService, request: Request) -> bool:
    if not service.token:
        return True
    header = request.headers.get("authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    return hmac.compare_digest(given.encode(), service.token.encode())


def _history_until(request: Request) -> dt.datetime | None:
    raw = request.query_params.get("history_until")
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        raise MessageError(
            "参数 history_until 应为时间 yyyy-MM-dd HH:mm:ss",
            "history_until must be a datetime yyyy-MM-dd HH:mm:ss",
            [Problem("请求参数", "时间格式错误", "bad datetime", field="history_until", value=raw)],
        ) from None


async def _handle(service: AuditService, kind: str, request: Request) -> JSONResponse:
    started = _now()
    rec = CallRecord(endpoint=kind, request_time=started, response_time=started, http_status=200, infcode=0)
    msgid = None
    try:
        if not _authorized(service, request):
            rec.http_status, rec.infcode, rec.error = 401, -1, "unauthorized"
            body: dict[str, Any] = {"infcode": -1, "err_msg": "未授权的调用方 / unauthorized caller", "output": None}
            return JSONResponse(body, status_code=401)
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise MessageError(
                "请求体不是合法的 JSON",
                f"the body is not valid JSON: {e}",
                [Problem("请求报文", "JSON 格式错误", str(e))],
            ) from None
        if isinstance(payload, dict):
            msgid = payload.get("msgid") if isinstance(payload.get("msgid"), str) else None
            rec.msgid, rec.infno = msgid, str(payload.get("infno") or "") or None
            rec.fixmedins_code = (
                payload.get("fixmedins_code") if isinstance(payload.get("fixmedins_code"), str) else None
            )
        msg = parse(kind, payload)
        rec.psn_no = msg.input.mdtrtinfo.psn_no
        until = _history_until(request)
        # the first use builds the auditor (opens the store): off the event loop
        auditor = service.auditor if service.ready else await run_in_threadpool(lambda: service.auditor)
        result = await auditor.audit_async(kind, msg, until)
        counts = result.counts()
        rec.stage = result.stage
        rec.n_lines = len(result.lines)
        rec.n_violation, rec.n_suspect, rec.n_pass = counts[VIOLATION], counts[SUSPECT], counts[PASS]
        rec.n_claim_findings = len(result.result)
        rec.violation_amount = result.summary["violation_amount"]
        rec.rules_run, rec.rule_codes = len(result.rules_ran), " ".join(result.rules_ran)
        done = _now()
        body = {
            "infcode": 0,
            "err_msg": "",
            "inf_refmsgid": msg.msgid,
            "refmsg_time": _fmt(started),
            "respond_time": _fmt(done),
            "output": {"result": result.result, "lines": result.lines, "summary": result.summary},
        }
        return JSONResponse(body)
    except MessageError as e:
        rec.http_status, rec.infcode, rec.error = 400, -1, e.en[:500]
        return JSONResponse(_error_body(e, msgid), status_code=400)
    except FundguardError as e:
        rec.http_status, rec.infcode, rec.error = 503, -1, e.en[:500]
        return JSONResponse(_error_body(e, msgid), status_code=503)
    except Exception as e:  # noqa: BLE001 - the caller gets a national-style error, the log the reason
        rec.http_status, rec.infcode, rec.error = 500, -1, f"{type(e).__name__}: {e}"[:500]
        body = {
            "infcode": -1,
            "err_msg": "审核服务内部错误 / internal audit error",
            "inf_refmsgid": msgid,
            "output": None,
        }
        return JSONResponse(body, status_code=500)
    finally:
        rec.response_time = _now()
        with contextlib.suppress(FundguardError):  # a log that cannot open must not fail the audit
            service.calllog.record(rec)


def create_audit_router(
    auditor: Auditor | None = None,
    calllog: CallLog | None = None,
    service: AuditService | None = None,
    **kwargs: Any,
) -> APIRouter:
    """The /api/v1/audit routes. Give an Auditor and CallLog, or let them be built from the environment."""
    svc = service or AuditService(auditor=auditor, calllog=calllog, **kwargs)
    router = APIRouter(prefix="/api/v1/audit", tags=["事中事前审核 / real-time audit"])
    router.audit_service = svc  # type: ignore[attr-defined]

    @router.post("/settlement", summary="事中审核：门诊/住院（预）结算 2206/2207/2303/2304")
    async def settlement(request: Request) -> JSONResponse:
        return await _handle(svc, "settlement", request)

    @router.post("/prescription", summary="事前审核：处方/医嘱开立前 3101")
    async def prescription(request: Request) -> JSONResponse:
        return await _handle(svc, "prescription", request)

    @router.get("/health", summary="服务状态 / status")
    async def health() -> dict[str, Any]:
        a = svc.auditor
        return {
            "status": "ok",
            "library_version": a.library.version,
            "rules": {stage: len(rules) for stage, rules in a.rules.items()},
            "region": a.region,
            "history": str(a.store),
        }

    return router


def create_app(service: AuditService | None = None) -> FastAPI:
    """The standalone audit server (``fundguard audit serve``); warms the auditor at start-up."""
    svc = service or AuditService()
    app = FastAPI(title="fundguard 事中/事前审核接口", version="1")
    app.include_router(create_audit_router(service=svc))

    @app.on_event("startup")
    def _warm() -> None:
        svc.auditor.warm_up()
        svc.calllog  # noqa: B018 - open the log file now

    @app.on_event("shutdown")
    def _close() -> None:
        svc.close()

    return app
