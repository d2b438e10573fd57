"""Golden cases (cases.yaml): load, fill the defaults a case leaves out, run on DuckDB, match.

A case states only what matters; every required column it omits gets a sensible default, and every
referenced person, institution, visit and settlement is created (docs/rule-authoring.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import yaml

from fundguard.data import schema
from fundguard.engine.duck import bound_params, create_views, run_rule_rows
from fundguard.engine.library import OUTPUT_COLUMNS, Rule
from fundguard.engine.views import VIEW_TABLES, Scope, ddl, table_columns
from fundguard.errors import FundguardError, Problem
from fundguard.kb.types import KB_POINT_COLUMNS

DEFAULT_FIXMEDINS = "H00000000001"
DEFAULT_ADMDVS = "110000"
DEFAULT_PSN = "P1"
DEFAULT_MDTRT = "M1"
DEFAULT_TIME = dt.datetime(2025, 3, 1, 10, 0, 0)
DEFAULT_DOCTOR = "D110000000001"
TABLES = [t.name for t in schema.CLAIMS_TABLES]
CASE_KEYS = {"name", "kb", "data", "params", "expect", "as_of", "admdvs", "period"}

# Column defaults for required columns (per table); referenced masters are created separately.
TABLE_DEFAULTS: dict[str, dict[str, Any]] = {
    "psn_info": {
        "gend": "1",
        "brdy": dt.date(1980, 1, 1),
        "insutype": "310",
        "psn_type": "11",
        "insu_admdvs": DEFAULT_ADMDVS,
    },
    "fixmedins": {"fixmedins_name": "默认医院", "fixmedins_type": "1", "hosp_lv": "01", "admdvs": DEFAULT_ADMDVS},
    "practitioner": {"prac_name": "默认医师", "prac_type": "1", "fixmedins_code": DEFAULT_FIXMEDINS, "vali_flag": "1"},
    "medins_equip_d": {"fixmedins_code": DEFAULT_FIXMEDINS, "equip_cnt": 1, "daily_capacity": 100},
    "emp_info": {"emp_name": "默认单位", "insu_admdvs": DEFAULT_ADMDVS},
    "emp_clct_d": {
        "clct_ym": "2025-03",
        "insutype": "310",
        "psn_cnt": 1,
        "wage_base_sumamt": 0,
        "emp_clct_amt": 0,
        "psn_clct_amt": 0,
    },
    "diag_d": {"diag_name": "", "maindiag_flag": None},
    "oprn_d": {"oprn_oprt_date": DEFAULT_TIME},
    "inventory_d": {"fixmedins_code": DEFAULT_FIXMEDINS, "occur_date": DEFAULT_TIME.date(), "inv_type": "1"},
    "fee_list_d": {
        "list_type": "101",
        "med_chrgitm_type": "09",
        "chrgitm_lv": "01",
        "bilg_dept_codg": "D01",
        "bilg_dr_codg": DEFAULT_DOCTOR,
        "vali_flag": "1",
    },
}


@dataclass
class Case:
    name: str
    kb: list[dict]
    data: dict[str, list[dict]]
    params: dict[str, Any]
    expect: list[dict]
    as_of: dt.date | None = None
    admdvs: str | None = None
    period: tuple[dt.date, dt.date] | None = None
    tables: dict[str, list[dict]] = field(default_factory=dict)  # filled


def _as_date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _as_time(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    return dt.datetime.fromisoformat(str(v))


def load_cases(rule: Rule) -> list[Case]:
    """Parse and check cases.yaml: at least one positive (findings expected) and one negative case."""
    path = rule.cases_path
    file = str(path)
    if not path.exists():
        raise FundguardError(
            f"规则 {rule.code} 没有黄金用例",
            f"rule {rule.code} has no golden cases",
            [Problem(file, "缺少 cases.yaml", "cases.yaml missing")],
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise FundguardError(
            f"cases.yaml 不是合法的 YAML：{rule.code}",
            f"cases.yaml is not valid YAML: {rule.code}",
            [Problem(file, str(e), str(e))],
        ) from e
    problems: list[Problem] = []
    defaults = raw.get("defaults") or {}
    raw_cases = raw.get("cases") or []
    if not isinstance(raw_cases, list) or not raw_cases:
        problems.append(Problem(file, "没有任何用例", "no cases", field="cases"))
        raw_cases = []
    cases: list[Case] = []
    for i, c in enumerate(raw_cases, start=1):
        where = f"cases[{i}]"
        if not isinstance(c, dict):
            problems.append(Problem(file, "用例须为映射", "a case must be a mapping", field=where))
            continue
        for key in c:
            if key not in CASE_KEYS:
                problems.append(Problem(file, f"未知键 {key}", f"unknown key {key}", field=where))
        if not c.get("name"):
            problems.append(Problem(file, "缺少用例名称 name", "missing name", field=where))
        if "expect" not in c or not isinstance(c.get("expect"), list):
            problems.append(
                Problem(
                    file,
                    "缺少 expect 列表（反例写 expect: []）",
                    "missing expect list (use expect: [] for a negative case)",
                    field=where,
                )
            )
            continue
        data = c.get("data") or {}
        for table in data:
            if table not in TABLES:
                problems.append(
                    Problem(
                        file,
                        f"未知的表 {table}（用国家表名，如 fee_list_d）",
                        f"unknown table {table}",
                        field=f"{where}.data",
                    )
                )
        for table, rows in data.items():
            if table in TABLES:
                cols = set(table_columns(table))
                for row in rows or []:
                    for col in row:
                        if col not in cols:
                            problems.append(
                                Problem(
                                    file,
                                    f"表 {table} 没有列 {col}",
                                    f"table {table} has no column {col}",
                                    field=f"{where}.data.{table}",
                                )
                            )
        for kp in c.get("kb") or []:
            for col in kp:
                if col not in KB_POINT_COLUMNS:
                    problems.append(
                        Problem(file, f"kb_point 没有列 {col}", f"kb_point has no column {col}", field=f"{where}.kb")
                    )
        for exp in c["expect"]:
            for col in exp:
                if col not in OUTPUT_COLUMNS:
                    problems.append(
                        Problem(
                            file,
                            f"expect 只能用输出列，{col} 不是",
                            f"expect may only use output columns, not {col}",
                            field=f"{where}.expect",
                        )
                    )
        for p in c.get("params") or {}:
            if p not in rule.params:
                problems.append(
                    Problem(file, f"规则没有参数 {p}", f"rule has no parameter {p}", field=f"{where}.params")
                )
        period = c.get("period")
        case = Case(
            name=str(c.get("name", where)),
            kb=[dict(k) for k in c.get("kb") or []],
            data={t: [_merge(defaults, t, r) for r in (rows or [])] for t, rows in data.items()},
            params=dict(c.get("params") or {}),
            expect=[dict(e) for e in c["expect"]],
            as_of=_as_date(c["as_of"]) if c.get("as_of") else None,
            admdvs=str(c["admdvs"]) if c.get("admdvs") else None,
            period=(_as_date(period[0]), _as_date(period[1])) if period else None,
        )
        cases.append(case)
    if cases and not any(c.expect for c in cases):
        problems.append(
            Problem(
                file, "缺少正例（expect 非空的用例）", "no positive case (a case expecting findings)", field="cases"
            )
        )
    if cases and not any(not c.expect for c in cases):
        problems.append(
            Problem(file, "缺少反例（expect: [] 的用例）", "no negative case (a case with expect: [])", field="cases")
        )
    if problems:
        raise FundguardError(f"规则 {rule.code} 的黄金用例有误", f"rule {rule.code}: invalid golden cases", problems)
    for case in cases:
        case.tables = fill_tables(case)
    return cases


def _merge(defaults: dict, table: str, row: dict) -> dict:
    """`defaults` is either {table: {col: value}} or {col: value} for every table having the column."""
    out: dict[str, Any] = {}
    cols = set(table_columns(table))
    for k, v in defaults.items():
        if k in TABLES:
            if k == table:
                out.update(v or {})
        elif k in cols:
            out[k] = v
    out.update(row or {})
    return out


def fill_tables(case: Case) -> dict[str, list[dict]]:
    """Every table the case touches, with required columns filled and referenced rows created."""
    data = {t: [dict(r) for r in rows] for t, rows in case.data.items()}
    mdtrt_rows = {r.get("mdtrt_id", DEFAULT_MDTRT): r for r in data.get("mdtrt_d", [])}
    setl_rows = {r.get("setl_id"): r for r in data.get("setl_d", []) if r.get("setl_id")}

    fees = data.get("fee_list_d", [])
    for i, r in enumerate(fees, start=1):
        r.setdefault("feedetl_sn", f"F{i}")
        if "mdtrt_id" not in r:
            setl = setl_rows.get(r.get("setl_id"))
            r["mdtrt_id"] = (setl or {}).get("mdtrt_id", DEFAULT_MDTRT)
        visit = mdtrt_rows.get(r["mdtrt_id"], {})
        r.setdefault("setl_id", f"S-{r['mdtrt_id']}")
        r.setdefault("psn_no", visit.get("psn_no", DEFAULT_PSN))
        r.setdefault("fixmedins_code", visit.get("fixmedins_code", DEFAULT_FIXMEDINS))
        r.setdefault("fee_ocur_time", visit.get("begntime", DEFAULT_TIME))
        r.setdefault("med_list_codg", "XX0000000000000000000")
        r.setdefault("cnt", 1)
        if "pric" not in r:
            total = r.get("det_item_fee_sumamt", r.get("inscp_scp_amt"))
            r["pric"] = Decimal(str(total)) / Decimal(str(r["cnt"])) if total is not None and r["cnt"] else 10
        r.setdefault(
            "det_item_fee_sumamt", (Decimal(str(r["cnt"])) * Decimal(str(r["pric"]))).quantize(Decimal("0.01"))
        )
        for k, v in TABLE_DEFAULTS["fee_list_d"].items():
            r.setdefault(k, v)

    for table, key in (("diag_d", "diag_srt_no"), ("oprn_d", "oprn_srt_no")):
        counters: dict[str, int] = {}
        for r in data.get(table, []):
            r.setdefault("mdtrt_id", DEFAULT_MDTRT)
            counters[r["mdtrt_id"]] = counters.get(r["mdtrt_id"], 0) + 1
            r.setdefault(key, counters[r["mdtrt_id"]])
            if table == "diag_d":
                r.setdefault("diag_name", str(r.get("diag_code", "")))
                r.setdefault("maindiag_flag", "1" if counters[r["mdtrt_id"]] == 1 else "0")
            if table == "oprn_d":
                visit = mdtrt_rows.get(r["mdtrt_id"], {})
                r.setdefault("oprn_oprt_date", visit.get("begntime", DEFAULT_TIME))
                r.setdefault("oprn_oprt_code", "00.0000")
    for i, r in enumerate(data.get("inventory_d", []), start=1):
        r.setdefault("inv_sn", f"I{i}")

    # Visits referenced by fee/setl/diag/oprn lines get a row; their times span their fee lines.
    visits: dict[str, dict] = {k: dict(v) for k, v in mdtrt_rows.items()}
    data["mdtrt_d"] = []
    for table in ("setl_d", "fee_list_d", "diag_d", "oprn_d"):
        for r in data.get(table, []):
            mid = r.get("mdtrt_id", DEFAULT_MDTRT)
            r["mdtrt_id"] = mid
            v = visits.setdefault(mid, {"mdtrt_id": mid})
            if "psn_no" in r:
                v.setdefault("psn_no", r["psn_no"])
            if "fixmedins_code" in r:
                v.setdefault("fixmedins_code", r["fixmedins_code"])
    for mid, v in visits.items():
        v.setdefault("mdtrt_id", mid)
        v.setdefault("psn_no", DEFAULT_PSN)
        v.setdefault("fixmedins_code", DEFAULT_FIXMEDINS)
        v.setdefault("med_type", "11")
        times = [_as_time(f["fee_ocur_time"]) for f in fees if f["mdtrt_id"] == mid]
        v.setdefault("begntime", min(times) if times else DEFAULT_TIME)
        v.setdefault("endtime", max(times) if times else _as_time(v["begntime"]))
        v.setdefault("vali_flag", "1")
        data["mdtrt_d"].append(v)

    # One settlement per setl_id referenced by fee lines, with amounts summing its lines.
    setls = {k: dict(v) for k, v in setl_rows.items()}
    for r in data.get("setl_d", []):
        if not r.get("setl_id"):
            r["setl_id"] = f"S-{r['mdtrt_id']}"
            setls[r["setl_id"]] = r
    for f in fees:
        setls.setdefault(f["setl_id"], {"setl_id": f["setl_id"], "mdtrt_id": f["mdtrt_id"]})
    data["setl_d"] = []
    for sid, s in setls.items():
        lines = [f for f in fees if f["setl_id"] == sid]
        visit = visits.get(s.get("mdtrt_id", DEFAULT_MDTRT), {})
        total = sum((Decimal(str(f["det_item_fee_sumamt"])) for f in lines), Decimal(0))
        inscp = sum((Decimal(str(f.get("inscp_scp_amt", f["det_item_fee_sumamt"]))) for f in lines), Decimal(0))
        fund = (inscp * Decimal("0.7")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        s.setdefault("mdtrt_id", DEFAULT_MDTRT)
        s.setdefault("psn_no", visit.get("psn_no", DEFAULT_PSN))
        s.setdefault("fixmedins_code", visit.get("fixmedins_code", DEFAULT_FIXMEDINS))
        times = [_as_time(f["fee_ocur_time"]) for f in lines]
        s.setdefault("setl_time", max(times) if times else _as_time(visit.get("endtime") or DEFAULT_TIME))
        s.setdefault("med_type", visit.get("med_type", "11"))
        s.setdefault("insutype", "310")
        s.setdefault("medfee_sumamt", total)
        s.setdefault("inscp_scp_amt", inscp)
        s.setdefault("hifp_pay", fund)
        s.setdefault("fund_pay_sumamt", s["hifp_pay"])
        s.setdefault("acct_pay", 0)
        s.setdefault("psn_cash_pay", Decimal(str(s["medfee_sumamt"])) - Decimal(str(s["fund_pay_sumamt"])))
        s.setdefault("refd_setl_flag", "0")
        s.setdefault("vali_flag", "1")
        data["setl_d"].append(s)

    # Masters: every referenced person, institution and doctor.
    persons = {r["psn_no"]: r for r in data.get("psn_info", [])}
    insts = {r["fixmedins_code"]: r for r in data.get("fixmedins", [])}
    for table, rows in list(data.items()):
        for r in rows:
            if table != "psn_info" and r.get("psn_no"):
                persons.setdefault(r["psn_no"], {"psn_no": r["psn_no"]})
            if table != "fixmedins" and r.get("fixmedins_code"):
                insts.setdefault(r["fixmedins_code"], {"fixmedins_code": r["fixmedins_code"]})
    insts.setdefault(DEFAULT_FIXMEDINS, {"fixmedins_code": DEFAULT_FIXMEDINS})
    data["psn_info"] = list(persons.values())
    data["fixmedins"] = list(insts.values())
    for table in ("psn_info", "fixmedins", "practitioner", "medins_equip_d", "emp_info", "emp_clct_d", "inventory_d"):
        for r in data.get(table, []):
            for k, v in TABLE_DEFAULTS.get(table, {}).items():
                r.setdefault(k, v)
    # Required columns still missing get a neutral value of their type, so inserts never fail.
    for table, rows in data.items():
        t = schema.table(table)
        for r in rows:
            for c in t.columns:
                if c.required and r.get(c.name) is None and c.name not in ("maindiag_flag",):
                    r[c.name] = {
                        "str": "",
                        "int": 0,
                        "bigint": 0,
                        "date": DEFAULT_TIME.date(),
                        "datetime": DEFAULT_TIME,
                    }.get(c.type, 0)
    kb = []
    for i, k in enumerate(case.kb, start=1):
        row = dict(k)
        row.setdefault("kp_id", f"KP{i}")
        row.setdefault("source", "黄金用例")
        kb.append(row)
    data["kb_point"] = kb
    return data


def case_as_of(case: Case) -> dt.date:
    """Parameters bind on the case's as_of, else its latest event date (the screening period end)."""
    if case.as_of:
        return case.as_of
    if case.period:
        return case.period[1]
    dates = [_as_time(r["fee_ocur_time"]).date() for r in case.tables.get("fee_list_d", [])]
    dates += [_as_time(r["setl_time"]).date() for r in case.tables.get("setl_d", [])]
    return max(dates) if dates else DEFAULT_TIME.date()


def case_scope(case: Case) -> Scope:
    start, end = case.period if case.period else (None, None)
    return Scope(period_start=start, period_end=end, admdvs=case.admdvs)


def load_case_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, list[dict]], case_no: int | None = None) -> None:
    """Create every source table (plus `_case` when batching) and insert the case rows."""
    for table in {*VIEW_TABLES.values(), *TABLES}:
        cols = table_columns(table)
        extra = ", _case INTEGER" if case_no is not None else ""
        con.execute(ddl(table).rstrip(")") + extra + ")")
        rows = tables.get(table, [])
        if not rows:
            continue
        names = list(cols) + (["_case"] if case_no is not None else [])
        values = [[r.get(c) for c in cols] + ([case_no] if case_no is not None else []) for r in rows]
        placeholders = ", ".join("?" for _ in names)
        con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", values)


def run_case_duckdb(rule: Rule, case: Case) -> list[dict]:
    return run_case(rule, case)[0]


def run_case_findings(rule: Rule, case: Case) -> list[dict]:
    return run_case(rule, case, with_findings=True)[1]


def run_case(rule: Rule, case: Case, with_findings: bool = False) -> tuple[list[dict], list[dict]]:
    """The rule's raw output rows, and (optionally) the same through the findings wrapper as `screen` writes it."""
    from fundguard.engine.duck import rule_query
    from fundguard.engine.findings import findings_sql

    con = duckdb.connect()
    try:
        load_case_tables(con, case.tables)
        create_views(con, case_scope(case))
        bound = bound_params(rule, case_as_of(case), case.admdvs, case.params)
        rows = run_rule_rows(con, rule, bound)
        findings: list[dict] = []
        if with_findings:
            sql = findings_sql(
                rule, rule_query(rule, bound), bound, "golden", "golden", "2025-01-01 00:00:00", "duckdb"
            )
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            findings = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        return rows, findings
    finally:
        con.close()


def cents(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _same(expected: Any, actual: Any, col: str) -> bool:
    if col == "violation_amount":
        return cents(expected) == cents(actual)
    if expected is None or actual is None:
        return expected is None and actual is None
    if col == "occur_time":
        return _as_time(expected) == _as_time(actual)
    return str(expected) == str(actual)


def match_expectations(expect: list[dict], rows: list[dict]) -> list[str]:
    """Problems (empty = pass): each expectation must match a distinct row; no row may be left over."""
    remaining = list(rows)
    problems = []
    for e in expect:
        hit = next((r for r in remaining if all(_same(v, r.get(k), k) for k, v in e.items())), None)
        if hit is None:
            problems.append(f"未找到期望的疑点 / expected finding not produced: {e}")
        else:
            remaining.remove(hit)
    for r in remaining:
        shown = {k: v for k, v in r.items() if v is not None and k not in ("message", "detail")}
        problems.append(f"多出的疑点 / unexpected finding: {shown}")
    return problems


def comparable(rows: list[dict]) -> list[tuple]:
    """Rows reduced to keys, time and amount (to the cent), sorted: what both engines must agree on."""
    keys = ("feedetl_sn", "setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "bilg_dr_codg", "med_list_codg", "kp_id")
    out = []
    for r in rows:
        t = r.get("occur_time")
        out.append(
            tuple("" if r.get(k) is None else str(r.get(k)) for k in keys)
            + ("" if t is None else _as_time(t).isoformat(), str(cents(r.get("violation_amount"))))
        )
    return sorted(out)
