"""监管驾驶舱: fund totals and trends, findings by rule / institution / doctor / month, top-risk institutions."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import APIRouter, Depends, Query, Request

from fundguard.data import codes
from fundguard.web import auth
from fundguard.web.app import open_data
from fundguard.web.dashboard_data import DashFilter, findings_by, fund_trend, top_risk_institutions, totals

router = APIRouter()
YM = r"^(\d{4}-\d{2})?$"


def _num(v) -> float:
    return float(v) if isinstance(v, Decimal) else (v or 0)


@router.get("/dashboard")
def dashboard(
    request: Request,
    period_from: str = Query("", pattern=YM),
    period_to: str = Query("", pattern=YM),
    admdvs: str = Query("", pattern=r"^(\d{6})?$"),
    fixmedins_type: str = Query("", max_length=4),
    hosp_lv: str = Query("", max_length=4),
    ctx: auth.Ctx = Depends(auth.need("dashboard")),
):
    flt = DashFilter(period_from, period_to, admdvs, fixmedins_type, hosp_lv)
    with open_data(request, ctx) as data:
        trend = fund_trend(data, flt)
        by_rule = findings_by(data, flt, "rule", 15)
        by_month = findings_by(data, flt, "month")
        by_doctor = findings_by(data, flt, "doctor", 10)
        top = top_risk_institutions(data, flt, 10)
        tot = totals(data, flt)
        options = data.filter_options()
    charts = {
        "trend": {
            "x": [r["ym"] for r in trend],
            "series": [
                {"name": "医疗费总额（万元）", "data": [round(_num(r["medfee_sumamt"]) / 1e4, 2) for r in trend]},
                {"name": "基金支付总额（万元）", "data": [round(_num(r["fund_pay_sumamt"]) / 1e4, 2) for r in trend]},
            ],
        },
        "by_month": {
            "x": [r["k"] for r in by_month],
            "series": [
                {"name": "疑点数", "data": [int(r["n"]) for r in by_month]},
                {"name": "违规金额（元）", "data": [round(_num(r["amount"]), 2) for r in by_month]},
            ],
        },
        "by_rule": {
            "y": [f"{r['label'] or r['k']}" for r in by_rule][::-1],
            "data": [round(_num(r["amount"]), 2) for r in by_rule][::-1],
            "name": "违规金额（元）",
        },
        "top_inst": {
            "y": [f"{r['label'] or r['k']}" for r in top][::-1],
            "data": [round(_num(r["amount"]), 2) for r in top][::-1],
            "name": "违规金额（元）",
        },
    }
    return request.app.state.templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "ctx": ctx,
            "flt": flt,
            "totals": tot,
            "by_rule": by_rule,
            "by_doctor": by_doctor,
            "top": top,
            "options": options,
            "charts_json": json.dumps(charts, ensure_ascii=False).replace("<", "\\u003c"),
            "fixmedins_types": codes.valid_codes_for("fixmedins_type").codes,
            "hosp_lvs": codes.valid_codes_for("hosp_lv").codes,
        },
    )
