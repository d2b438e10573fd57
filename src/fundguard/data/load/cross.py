"""Checks across rows and tables, on the typed staging tables: references, amount identities of settlements
and fee lines, and settlement totals against their lines. References and totals look at the incoming data
together with what the warehouse already holds, so a monthly load can point at persons loaded earlier."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from fundguard.data import schema
from fundguard.data.load.cells import first_problems
from fundguard.data.load.result import Collector
from fundguard.data.load.tables import ident, row_count
from fundguard.errors import Problem

AMOUNT_TOLERANCE = 0.01  # yuan; national amounts carry 2 decimals, local rounding differs by a cent
LINE_RELATIVE_TOLERANCE = 1e-4  # cnt × pric is rounded per line to the cent by the hospital system
OPTIONAL_FUND_PARTS = ("cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")


@dataclass
class Staged:
    """The validated-so-far incoming data of one load."""

    stages: dict[str, str] = field(default_factory=dict)  # table → temp staging table
    files: dict[str, str] = field(default_factory=dict)  # table → file name
    columns: dict[str, set[str]] = field(default_factory=dict)  # table → columns present in the file


def check_references(con: duckdb.DuckDBPyConnection, st: Staged, out: Collector, warnings: list[str]) -> None:
    for tname, stg in st.stages.items():
        for col in schema.table(tname).columns:
            if not col.ref or col.name not in st.columns[tname]:
                continue
            target, key = col.ref.split(".")
            rels = []
            if target in st.stages:
                rels.append(st.stages[target])
            if row_count(con, target):
                rels.append(f"main.{ident(target)}")
            q = ident(col.name)
            if not rels:
                used = con.execute(f"SELECT count(*) FROM {stg} WHERE {q} IS NOT NULL").fetchone()[0]
                if used:
                    warnings.append(
                        f"未提供 {target} 且仓库中没有，{tname}.{col.name} 的引用未校验"
                        f" / {target} neither supplied nor in the warehouse: {tname}.{col.name} references not checked"
                    )
                continue
            missing = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {r} x WHERE x.{ident(key)} = s.{q})" for r in rels)
            first_problems(
                con,
                out,
                "reference",
                f"SELECT s._row, s.{q} FROM {stg} s WHERE s.{q} IS NOT NULL AND {missing}",
                lambda row, v, f=st.files[tname], c=col, t=target, k=key: Problem(
                    f,
                    f"引用的 {t}.{k} 不存在（本次数据和仓库中均无）",
                    f"references {t}.{k} that exists neither in this data nor in the warehouse",
                    row=row,
                    field=c.name,
                    value=v,
                ),
            )


def _fmt(*values) -> str:
    return " / ".join("空" if v is None else str(v) for v in values)


def check_setl_amounts(con: duckdb.DuckDBPyConnection, st: Staged, out: Collector) -> None:
    if "setl_d" not in st.stages:
        return
    stg, file, present = st.stages["setl_d"], st.files["setl_d"], st.columns["setl_d"]
    tol = AMOUNT_TOLERANCE
    # medfee_sumamt = fund_pay_sumamt + psn_part_amt (+ hosp_part_amt)
    first_problems(
        con,
        out,
        "amount_identity",
        f"""SELECT _row, medfee_sumamt, fund_pay_sumamt, psn_part_amt, hosp_part_amt FROM {stg}
            WHERE psn_part_amt IS NOT NULL
              AND abs(medfee_sumamt - (fund_pay_sumamt + psn_part_amt + coalesce(hosp_part_amt, 0))) > {tol}""",
        lambda row, m, f, p, h: Problem(
            file,
            "金额不平：医疗费总额 ≠ 基金支付总额 + 个人负担总金额 + 医院负担金额",
            "amounts do not add up: medfee_sumamt ≠ fund_pay_sumamt + psn_part_amt + hosp_part_amt",
            row=row,
            field="medfee_sumamt",
            value=_fmt(m, f, p, h),
        ),
    )
    # psn_part_amt = acct_pay + psn_cash_pay (+ acct_mulaid_pay, kept as an extra column when supplied)
    mulaid = "coalesce(TRY_CAST(acct_mulaid_pay AS DECIMAL(16,2)), 0)" if "acct_mulaid_pay" in present else "0"
    first_problems(
        con,
        out,
        "amount_identity",
        f"""SELECT _row, psn_part_amt, acct_pay, psn_cash_pay FROM {stg}
            WHERE psn_part_amt IS NOT NULL AND abs(psn_part_amt - (acct_pay + psn_cash_pay + {mulaid})) > {tol}""",
        lambda row, p, a, c: Problem(
            file,
            "金额不平：个人负担总金额 ≠ 个人账户支出 + 个人现金支出",
            "amounts do not add up: psn_part_amt ≠ acct_pay + psn_cash_pay",
            row=row,
            field="psn_part_amt",
            value=_fmt(p, a, c),
        ),
    )
    # fund_pay_sumamt = Σ fund parts, when the file carries the parts beyond hifp_pay (else some may be unrecorded)
    parts = [p for p in OPTIONAL_FUND_PARTS if p in present]
    if parts:
        total = " + ".join(["hifp_pay", *(f"coalesce({p}, 0)" for p in parts)])
        first_problems(
            con,
            out,
            "amount_identity",
            f"SELECT _row, fund_pay_sumamt, {total} AS parts FROM {stg} WHERE abs(fund_pay_sumamt - ({total})) > {tol}",
            lambda row, f, s: Problem(
                file,
                f"金额不平：基金支付总额 ≠ 各项基金支出之和（{' + '.join(['hifp_pay', *parts])}）",
                f"amounts do not add up: fund_pay_sumamt ≠ sum of fund payments ({' + '.join(['hifp_pay', *parts])})",
                row=row,
                field="fund_pay_sumamt",
                value=_fmt(f, s),
            ),
        )


def check_fee_amounts(con: duckdb.DuckDBPyConnection, st: Staged, out: Collector) -> None:
    if "fee_list_d" not in st.stages:
        return
    stg, file = st.stages["fee_list_d"], st.files["fee_list_d"]
    first_problems(
        con,
        out,
        "amount_identity",
        f"""SELECT _row, det_item_fee_sumamt, cnt, pric FROM {stg}
            WHERE abs(det_item_fee_sumamt - cnt * pric)
                  > greatest({AMOUNT_TOLERANCE}, {LINE_RELATIVE_TOLERANCE} * abs(cnt * pric))""",
        lambda row, s, c, p: Problem(
            file,
            "金额不平：明细项目费用总额 ≠ 数量 × 单价",
            "amounts do not add up: det_item_fee_sumamt ≠ cnt × pric",
            row=row,
            field="det_item_fee_sumamt",
            value=f"{s} ≠ {c} × {p}",
        ),
    )


def check_setl_lines(con: duckdb.DuckDBPyConnection, st: Staged, out: Collector) -> None:
    """Σ valid line amounts of a valid settlement = its medfee_sumamt, in the warehouse as it will be after the load."""
    if "fee_list_d" not in st.stages and "setl_d" not in st.stages:
        return
    empty_fee = "(SELECT NULL::VARCHAR AS feedetl_sn, NULL::VARCHAR AS setl_id, NULL::DECIMAL(16,2) AS det_item_fee_sumamt, NULL::VARCHAR AS vali_flag, NULL::BIGINT AS _row WHERE false)"
    empty_setl = "(SELECT NULL::VARCHAR AS setl_id, NULL::DECIMAL(16,2) AS medfee_sumamt, NULL::VARCHAR AS vali_flag, NULL::BIGINT AS _row WHERE false)"
    new_fee = st.stages.get("fee_list_d", empty_fee)
    new_setl = st.stages.get("setl_d", empty_setl)
    old_fee = "main.fee_list_d" if row_count(con, "fee_list_d") else None
    old_setl = "main.setl_d" if row_count(con, "setl_d") else None
    if old_fee is None and "fee_list_d" not in st.stages:
        return
    old_lines = (
        f"""UNION ALL SELECT w.setl_id, w.det_item_fee_sumamt, w.vali_flag FROM {old_fee} w
            WHERE w.setl_id IN (SELECT setl_id FROM affected)
              AND NOT EXISTS (SELECT 1 FROM {new_fee} n WHERE n.feedetl_sn = w.feedetl_sn)"""
        if old_fee
        else ""
    )
    old_setls = (
        f"""UNION ALL SELECT w.setl_id, w.medfee_sumamt, w.vali_flag, NULL FROM {old_setl} w
            WHERE w.setl_id IN (SELECT setl_id FROM affected)
              AND NOT EXISTS (SELECT 1 FROM {new_setl} n WHERE n.setl_id = w.setl_id)"""
        if old_setl
        else ""
    )
    query = f"""
        WITH affected AS (SELECT setl_id FROM {new_fee} UNION SELECT setl_id FROM {new_setl}),
        lines AS (SELECT setl_id, det_item_fee_sumamt, vali_flag FROM {new_fee} {old_lines}),
        sums AS (SELECT setl_id, sum(det_item_fee_sumamt) AS line_sum, count(*) AS n_lines
                 FROM lines WHERE vali_flag = '1' GROUP BY setl_id),
        setls AS (SELECT setl_id, medfee_sumamt, vali_flag, _row FROM {new_setl} {old_setls}),
        first_line AS (SELECT setl_id, min(_row) AS line_row FROM {new_fee} GROUP BY setl_id)
        SELECT coalesce(s._row, f.line_row) AS _row, s._row IS NOT NULL AS in_setl, s.setl_id,
               s.medfee_sumamt, m.line_sum, m.n_lines
        FROM setls s JOIN sums m USING (setl_id) LEFT JOIN first_line f USING (setl_id)
        WHERE s.vali_flag = '1' AND abs(s.medfee_sumamt - m.line_sum) > {AMOUNT_TOLERANCE}"""
    setl_file = st.files.get("setl_d", "setl_d")
    fee_file = st.files.get("fee_list_d", "fee_list_d")
    first_problems(
        con,
        out,
        "setl_lines",
        query,
        lambda row, in_setl, sid, m, s, n: Problem(
            setl_file if in_setl else fee_file,
            f"结算 {sid} 的医疗费总额与其 {n} 条有效费用明细之和不一致",
            f"settlement {sid}: medfee_sumamt differs from the sum of its {n} valid fee lines",
            row=row,
            field="medfee_sumamt" if in_setl else "det_item_fee_sumamt",
            value=f"{m} ≠ {s}",
        ),
    )
