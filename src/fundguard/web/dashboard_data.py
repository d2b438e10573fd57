"""Aggregates for the 监管驾驶舱, all scoped through `Data` and filtered by period, region and institution kind."""

from __future__ import annotations

from dataclasses import dataclass

from fundguard.web.data import Data, month_after, month_start


@dataclass
class DashFilter:
    period_from: str = ""
    period_to: str = ""
    admdvs: str = ""
    fixmedins_type: str = ""
    hosp_lv: str = ""


def _inst_conditions(flt: DashFilter, alias: str) -> tuple[list[str], list]:
    where, params = [], []
    for col in ("admdvs", "fixmedins_type", "hosp_lv"):
        v = getattr(flt, col)
        if v:
            where.append(f"{alias}.{col} = ?")
            params.append(v)
    return where, params


def _period(col: str, flt: DashFilter) -> tuple[list[str], list]:
    where, params = [], []
    if flt.period_from:
        where.append(f"{col} >= CAST(? AS TIMESTAMP)")
        params.append(month_start(flt.period_from))
    if flt.period_to:
        where.append(f"{col} < CAST(? AS TIMESTAMP)")
        params.append(month_after(flt.period_to))
    return where, params


def fund_trend(data: Data, flt: DashFilter) -> list[dict]:
    """Monthly medfee_sumamt and fund_pay_sumamt of valid settlements (refunds net out)."""
    if not data.has("setl_d") or not data.has("fixmedins"):
        return []
    cond, params = data.scope.sql("s.fixmedins_code")
    w1, p1 = _inst_conditions(flt, "m")
    w2, p2 = _period("s.setl_time", flt)
    where = " AND ".join([cond, "s.vali_flag = '1'", *w1, *w2])
    return data.q(
        # Grouping on an integer yyyymm is several times faster than on strftime text; format after grouping.
        f"""SELECT printf('%04d-%02d', ym // 100, ym % 100) AS ym, setl_cnt, medfee_sumamt, fund_pay_sumamt FROM (
              SELECT year(s.setl_time) * 100 + month(s.setl_time) AS ym, count(*) AS setl_cnt,
                     sum(s.medfee_sumamt) AS medfee_sumamt, sum(s.fund_pay_sumamt) AS fund_pay_sumamt
              FROM setl_d s JOIN fixmedins m ON m.fixmedins_code = s.fixmedins_code
              WHERE {where} GROUP BY 1) t ORDER BY ym""",
        [*params, *p1, *p2],
    )


def _findings_base(data: Data, flt: DashFilter) -> tuple[str, list, str]:
    cond, params = data.scope.sql("f.fixmedins_code", "f.admdvs")
    w1, p1 = _inst_conditions(flt, "m")
    w2, p2 = _period("f.occur_time", flt)
    join = "LEFT JOIN fixmedins m ON m.fixmedins_code = f.fixmedins_code" if data.has("fixmedins") else ""
    if not join:
        w1, p1 = [], []
    return " AND ".join([cond, *w1, *w2]), [*params, *p1, *p2], join


def findings_by(data: Data, flt: DashFilter, dim: str, limit: int = 10) -> list[dict]:
    """Findings counted and summed by rule | institution | doctor | month."""
    if not data.has("findings"):
        return []
    where, params, join = _findings_base(data, flt)
    key, label = {
        "rule": ("f.rule_code", "any_value(f.rule_name)"),
        "institution": ("f.fixmedins_code", "any_value(m.fixmedins_name)" if join else "NULL"),
        "doctor": ("f.bilg_dr_codg", "NULL"),
        "month": ("year(f.occur_time) * 100 + month(f.occur_time)", "NULL"),
    }[dim]
    order = "k" if dim == "month" else "amount DESC, k"
    lim = "" if dim == "month" else f"LIMIT {int(limit)}"
    rows = data.q(
        f"""SELECT {key} AS k, {label} AS label, count(*) AS n, sum(f.violation_amount) AS amount,
                   count(DISTINCT f.rule_code) AS rules
            FROM findings f {join} WHERE {where} AND {key} IS NOT NULL
            GROUP BY k ORDER BY {order} {lim}""",
        params,
    )
    if dim == "month":  # grouped on integer yyyymm (fast); shown as YYYY-MM
        for r in rows:
            r["k"] = f"{int(r['k']) // 100:04d}-{int(r['k']) % 100:02d}"
    return rows


def totals(data: Data, flt: DashFilter) -> dict:
    out = {
        "setl_cnt": 0,
        "medfee_sumamt": 0.0,
        "fund_pay_sumamt": 0.0,
        "finding_cnt": 0,
        "violation_amount": 0.0,
        "institution_cnt": 0,
    }
    for r in fund_trend(data, flt):
        out["setl_cnt"] += int(r["setl_cnt"])
        out["medfee_sumamt"] += float(r["medfee_sumamt"] or 0)
        out["fund_pay_sumamt"] += float(r["fund_pay_sumamt"] or 0)
    if data.has("findings"):
        where, params, join = _findings_base(data, flt)
        n, amt, inst = data.con.execute(
            f"SELECT count(*), coalesce(sum(f.violation_amount), 0), count(DISTINCT f.fixmedins_code) "
            f"FROM findings f {join} WHERE {where}",
            params,
        ).fetchall()[0]
        out.update(finding_cnt=int(n), violation_amount=float(amt), institution_cnt=int(inst))
    return out


def top_risk_institutions(data: Data, flt: DashFilter, limit: int = 10) -> list[dict]:
    """Institutions ranked by violation amount, with the share of their fund payments it represents."""
    rows = findings_by(data, flt, "institution", limit)
    if not rows or not data.has("setl_d"):
        return rows
    codes = [r["k"] for r in rows]
    marks = ", ".join("?" for _ in codes)
    cond, params = data.scope.sql("s.fixmedins_code")
    w2, p2 = _period("s.setl_time", flt)
    setl_where = " AND ".join([cond, "s.vali_flag = '1'", *w2])
    fund = {
        r["fixmedins_code"]: float(r["fund"] or 0)
        for r in data.q(
            f"SELECT s.fixmedins_code, sum(s.fund_pay_sumamt) AS fund FROM setl_d s "
            f"WHERE s.fixmedins_code IN ({marks}) AND {setl_where} "
            "GROUP BY s.fixmedins_code",
            [*codes, *params, *p2],
        )
    }
    for r in rows:
        f = fund.get(r["k"], 0.0)
        r["fund_pay_sumamt"] = f
        r["ratio"] = (float(r["amount"] or 0) / f) if f else None
    return rows
