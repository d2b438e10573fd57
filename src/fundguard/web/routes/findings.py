"""疑点 review: filtered, sorted, paged lists; drill-down; unmasking (logged); 三级审核; xlsx export."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy.exc import IntegrityError

from fundguard.store import oplog, reviews
from fundguard.store.models import User
from fundguard.store.roles import REVIEW_STATUSES, REVIEW_STEPS
from fundguard.web import auth
from fundguard.web.app import open_data
from fundguard.web.data import SORTS, FindingFilter
from fundguard.web.export import EXPORT_LIMIT, findings_xlsx
from fundguard.web.rulebook import load_rule

router = APIRouter()
YM = r"^(\d{4}-\d{2})?$"
PAGE_SIZES = (20, 50, 100)


def _amount(text: str, label: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise HTTPException(422, f"{label}须为数字") from None
    if value < 0:
        raise HTTPException(422, f"{label}不能为负数")
    return value


@dataclass
class ListParams:
    flt: FindingFilter
    sort: str
    desc: bool
    page: int
    size: int

    def query(self) -> dict:
        return {**self.flt.as_query(), "sort": self.sort, "order": "desc" if self.desc else "asc", "size": self.size}


def list_params(
    request: Request,
    rule_code: str = Query("", max_length=32),
    result_type: str = Query("", pattern=r"^(明确违规|可疑)?$"),
    fixmedins_code: str = Query("", max_length=32),
    bilg_dr_codg: str = Query("", max_length=32),
    admdvs: str = Query("", pattern=r"^(\d{6})?$"),
    period_from: str = Query("", pattern=YM),
    period_to: str = Query("", pattern=YM),
    status: str = Query("", max_length=8),
    amount_min: str = Query("", max_length=20),
    amount_max: str = Query("", max_length=20),
    sort: str = Query("occur_time", max_length=20),
    order: str = Query("desc", pattern=r"^(asc|desc)$"),
    page: int = Query(1, ge=1, le=1_000_000),
    size: int = Query(20, ge=1, le=100),
) -> ListParams:
    if status and status not in REVIEW_STATUSES:
        raise HTTPException(422, "审核状态无效")
    flt = FindingFilter(
        rule_code=rule_code.strip(),
        result_type=result_type,
        fixmedins_code=fixmedins_code.strip(),
        bilg_dr_codg=bilg_dr_codg.strip(),
        admdvs=admdvs,
        period_from=period_from,
        period_to=period_to,
        status=status,
        amount_min=_amount(amount_min, "最小金额"),
        amount_max=_amount(amount_max, "最大金额"),
    )
    if status:
        with request.app.state.store.session() as s:
            if status == "待初审":
                flt.reviewed_ids = reviews.ids_with_status(s, list(REVIEW_STATUSES[1:]))
            else:
                flt.status_ids = reviews.ids_with_status(s, [status])
    return ListParams(flt, sort if sort in SORTS else "occur_time", order == "desc", page, size)


def _table_context(request: Request, ctx: auth.Ctx, lp: ListParams) -> dict:
    with open_data(request, ctx) as data:
        page = data.findings_page(lp.flt, lp.sort, lp.desc, lp.page, lp.size)
        options = data.filter_options()
    with request.app.state.store.session() as s:
        statuses = reviews.statuses_for(s, [r["finding_id"] for r in page.rows])
    step = REVIEW_STEPS[ctx.user.role][0] if ctx.user.role in REVIEW_STEPS else None
    return {
        "step": step,
        "notice": request.query_params.get("notice", ""),
        "ctx": ctx,
        "lp": lp,
        "q": lp.query(),
        "pg": page,
        "amount": page.amount,
        "statuses": statuses,
        "options": options,
        "page_sizes": PAGE_SIZES,
    }


@router.get("/findings")
def findings_list(
    request: Request, lp: ListParams = Depends(list_params), ctx: auth.Ctx = Depends(auth.need("findings"))
):
    return request.app.state.templates.TemplateResponse(request, "findings.html", _table_context(request, ctx, lp))


@router.get("/findings/table")
def findings_table(
    request: Request, lp: ListParams = Depends(list_params), ctx: auth.Ctx = Depends(auth.need("findings"))
):
    return request.app.state.templates.TemplateResponse(
        request, "_findings_table.html", _table_context(request, ctx, lp)
    )


@router.post("/findings/export")
def findings_export(
    request: Request, lp: ListParams = Depends(list_params), ctx: auth.Ctx = Depends(auth.need_post("export"))
):
    with open_data(request, ctx) as data:
        total, _ = data.findings_count(lp.flt)
        rows = list(data.findings_iter(lp.flt, lp.sort, lp.desc, EXPORT_LIMIT))
    with request.app.state.store.session() as s:
        statuses = reviews.statuses_for(s, [r["finding_id"] for r in rows])
        content, name = findings_xlsx(rows, statuses, total)
        oplog.append(
            s,
            "export",
            username=ctx.user.username,
            role=ctx.user.role,
            ip=ctx.ip,
            target="findings",
            detail={"filters": lp.flt.as_query(), "rows": len(rows), "total": total, "file": name},
        )
    return StreamingResponse(
        iter([content]),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=findings.xlsx; filename*=UTF-8''{quote(name)}"},
    )


def _finding_or_404(data, finding_id: str) -> dict:
    row = data.finding(finding_id)
    if row is None:  # absent or outside the user's scope: the same answer, so ids cannot be probed
        raise HTTPException(404, "疑点不存在或不在您的数据权限范围内")
    return row


BATCH_MAX = 100


@router.post("/findings/review-batch")
async def findings_review_batch(
    request: Request,
    conclusion: str = Form(default="", max_length=16),
    note: str = Form(default="", max_length=2000),
    back: str = Form(default="/findings", max_length=2000),
    ctx: auth.Ctx = Depends(auth.need_post("review")),
):
    """One conclusion for the checked findings of a page; each finding is recorded and logged on its own."""
    form = await request.form()
    ids = list(dict.fromkeys(str(v) for v in form.getlist("finding_id")))[:BATCH_MAX]
    with open_data(request, ctx) as data:
        visible = data.visible_ids(ids)
    done, refused = 0, []
    for fid in visible:
        try:
            with request.app.state.store.session() as s:
                reviews.record(s, s.get(User, ctx.user.id), fid, conclusion, note.strip(), ctx.ip)
            done += 1
        except (reviews.ReviewRefused, IntegrityError) as e:
            refused.append(f"{fid}：{e if isinstance(e, reviews.ReviewRefused) else '刚被他人审核'}")
    refused += [f"{fid}：不存在或不在您的数据权限范围内" for fid in ids if fid not in visible]
    if not back.startswith("/findings") or back.startswith("//"):
        back = "/findings"
    msg = f"已审核 {done} 条" + (f"；未处理 {len(refused)} 条（{'；'.join(refused[:5])}）" if refused else "")
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}notice={quote(msg)}", status_code=303)


@router.get("/findings/{finding_id}")
def finding_detail(request: Request, finding_id: str, ctx: auth.Ctx = Depends(auth.need("findings"))):
    with open_data(request, ctx) as data:
        f = _finding_or_404(data, finding_id)
        setl = data.settlement(f["setl_id"])
        lines = data.fee_lines(f["setl_id"]) if setl else []
        visit = data.visit(f["mdtrt_id"])
        person = data.person(f["psn_no"])
        history = data.person_history(f["psn_no"])
        inst = data.institution(f["fixmedins_code"])
        kp_id = (f.get("evidence_obj") or {}).get("kp_id")
        kp = data.kb_point(kp_id) if kp_id else None
    rule = load_rule(f["rule_code"], request.app.state.rules_dir)
    with request.app.state.store.session() as s:
        status = reviews.status_of(s, finding_id)
        steps = reviews.history(s, finding_id)
    step = reviews.next_step(ctx.user.role, status) if ctx.can("review") else None
    return request.app.state.templates.TemplateResponse(
        request,
        "finding_detail.html",
        {
            "ctx": ctx,
            "f": f,
            "setl": setl,
            "lines": lines,
            "visit": visit,
            "person": person,
            "history": history,
            "inst": inst,
            "kp": kp,
            "rule": rule,
            "status": status,
            "steps": steps,
            "step": step,
            "error": request.query_params.get("error", ""),
        },
    )


@router.post("/findings/{finding_id}/unmask")
def finding_unmask(request: Request, finding_id: str, ctx: auth.Ctx = Depends(auth.need_post("unmask"))):
    with open_data(request, ctx) as data:
        f = _finding_or_404(data, finding_id)
        person = data.person(f["psn_no"])
    if person is None:
        raise HTTPException(404, "人员信息不存在")
    with request.app.state.store.session() as s:
        oplog.append(
            s,
            "unmask",
            username=ctx.user.username,
            role=ctx.user.role,
            ip=ctx.ip,
            target=f"psn:{f['psn_no']}",
            detail={"finding_id": finding_id, "fields": ["psn_name", "certno", "tel"]},
        )
    return request.app.state.templates.TemplateResponse(
        request, "_person.html", {"ctx": ctx, "f": f, "person": person, "unmasked": True}
    )


@router.post("/findings/{finding_id}/review")
def finding_review(
    request: Request,
    finding_id: str,
    conclusion: str = Form(default="", max_length=16),
    note: str = Form(default="", max_length=2000),
    ctx: auth.Ctx = Depends(auth.need_post("review")),
):
    with open_data(request, ctx) as data:
        _finding_or_404(data, finding_id)
    try:
        with request.app.state.store.session() as s:
            reviews.record(s, s.get(User, ctx.user.id), finding_id, conclusion, note.strip(), ctx.ip)
        error = ""
    except reviews.ReviewRefused as e:
        error = str(e)
    except IntegrityError:  # two people submitted the same step at once; the first one won
        error = "该疑点刚被他人审核，请刷新页面后查看"
    if error:
        if request.headers.get("HX-Request") == "true":
            return HTMLResponse(f'<div class="alert error">{_esc(error)}</div>', status_code=409)
        return RedirectResponse(f"/findings/{quote(finding_id)}?error={quote(error)}", 303)
    return RedirectResponse(f"/findings/{quote(finding_id)}", status_code=303)


def _esc(text: str) -> str:
    return escape(text)
