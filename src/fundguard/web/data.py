"""Data access to the DuckDB warehouse for the web app. Every query goes through `Data`, which adds the
user's scope condition itself — a route cannot forget it, and URL or form values cannot widen it.

Findings lists are paged in SQL (LIMIT/OFFSET after a stable ORDER BY) and counted separately; personal
data is joined only to the rows of the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from fundguard import warehouse
from fundguard.web.scope import Scope

SORTS = {
    "occur_time": "f.occur_time",
    "violation_amount": "f.violation_amount",
    "rule_code": "f.rule_code",
    "fixmedins_code": "f.fixmedins_code",
    "severity": "f.severity",
}
FINDING_COLUMNS = (
    "finding_id, rule_code, rule_name, result_type, severity, level, object_type, setl_id, mdtrt_id, "
    "feedetl_sn, psn_no, fixmedins_code, bilg_dr_codg, admdvs, med_list_codg, occur_time, violation_amount, "
    "message, evidence, legal_basis, stage, library_version, detected_at, run_id"
)


class WarehouseMissing(Exception):
    """The warehouse file or a table it needs does not exist yet."""


@dataclass
class FindingFilter:
    rule_code: str = ""
    result_type: str = ""
    fixmedins_code: str = ""
    bilg_dr_codg: str = ""
    admdvs: str = ""
    period_from: str = ""  # YYYY-MM
    period_to: str = ""
    status: str = ""  # 待初审 | 已初审 | 已复审 | 已终审
    amount_min: float | None = None
    amount_max: float | None = None
    # Filled by the route from the workflow store when `status` is set (reviews live there, not in DuckDB).
    status_ids: list[str] | None = None
    reviewed_ids: list[str] | None = None

    def as_query(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("status_ids", "reviewed_ids") and v not in ("", None)}
        return d


@dataclass
class Page:
    rows: list[dict]
    total: int
    page: int
    size: int
    amount: float = 0.0  # sum of violation_amount over the whole selection (findings lists)
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.size))


def month_start(ym: str) -> str:
    return f"{ym}-01"


def month_after(ym: str) -> str:
    y, m = int(ym[:4]), int(ym[5:7])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return f"{y:04d}-{m:02d}-01"


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


class Data:
    def __init__(self, path: str | Path, scope: Scope):
        self.path = Path(path)
        self.scope = scope
        if not self.path.exists():
            raise WarehouseMissing(str(self.path))
        self.con = warehouse.connect(self.path, read_only=True)
        self._tables: set[str] | None = None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Data:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def has(self, table: str) -> bool:
        if self._tables is None:
            # fetchall, not fetchone: DuckDB refuses new work on a connection with an unfinished result.
            rows = self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
            self._tables = {r[0] for r in rows}
        return table in self._tables

    def _need(self, table: str) -> None:
        if not self.has(table):
            raise WarehouseMissing(table)

    def q(self, sql: str, params: list | None = None) -> list[dict]:
        return _dicts(self.con.execute(sql, params or []))

    # ---- findings -------------------------------------------------------------------------------------------

    def _finding_where(self, flt: FindingFilter) -> tuple[str, list]:
        cond, params = self.scope.sql("f.fixmedins_code", "f.admdvs")
        where = [cond]
        for col in ("rule_code", "result_type", "fixmedins_code", "bilg_dr_codg", "admdvs"):
            v = getattr(flt, col)
            if v:
                where.append(f"f.{col} = ?")
                params.append(v)
        if flt.period_from:
            where.append("f.occur_time >= CAST(? AS TIMESTAMP)")
            params.append(month_start(flt.period_from))
        if flt.period_to:
            where.append("f.occur_time < CAST(? AS TIMESTAMP)")
            params.append(month_after(flt.period_to))
        if flt.amount_min is not None:
            where.append("f.violation_amount >= ?")
            params.append(flt.amount_min)
        if flt.amount_max is not None:
            where.append("f.violation_amount <= ?")
            params.append(flt.amount_max)
        if flt.status == "待初审" and flt.reviewed_ids is not None:
            self.con.register("fg_reviewed", pa.table({"finding_id": pa.array(flt.reviewed_ids, pa.string())}))
            where.append("f.finding_id NOT IN (SELECT finding_id FROM fg_reviewed)")
        elif flt.status and flt.status_ids is not None:
            self.con.register("fg_status", pa.table({"finding_id": pa.array(flt.status_ids, pa.string())}))
            where.append("f.finding_id IN (SELECT finding_id FROM fg_status)")
        return " AND ".join(where), params

    def findings_count(self, flt: FindingFilter) -> tuple[int, float]:
        self._need("findings")
        where, params = self._finding_where(flt)
        n, amt = self.con.execute(
            f"SELECT count(*), coalesce(sum(violation_amount), 0) FROM findings f WHERE {where}", params
        ).fetchall()[0]
        return int(n), float(amt)

    def findings_page(self, flt: FindingFilter, sort: str, desc: bool, page: int, size: int) -> Page:
        self._need("findings")
        total, amount = self.findings_count(flt)
        page = max(1, min(page, max(1, -(-total // size))))
        where, params = self._finding_where(flt)
        order = SORTS.get(sort, "f.occur_time")
        direction = "DESC" if desc else "ASC"
        person = "LEFT JOIN psn_info p ON p.psn_no = pg.psn_no" if self.has("psn_info") else ""
        name = "p.psn_name" if person else "CAST(NULL AS VARCHAR)"
        inst = "LEFT JOIN fixmedins m ON m.fixmedins_code = pg.fixmedins_code" if self.has("fixmedins") else ""
        inst_name = "m.fixmedins_name" if inst else "CAST(NULL AS VARCHAR)"
        sql = f"""
            WITH pg AS (
              SELECT {FINDING_COLUMNS} FROM findings f WHERE {where}
              ORDER BY {order} {direction} NULLS LAST, f.finding_id
              LIMIT ? OFFSET ?
            )
            SELECT pg.*, {name} AS psn_name, {inst_name} AS fixmedins_name FROM pg {person} {inst}
            ORDER BY {order.replace("f.", "pg.")} {direction} NULLS LAST, pg.finding_id
        """
        rows = self.q(sql, [*params, size, (page - 1) * size])
        return Page(rows, total, page, size, amount)

    def findings_iter(self, flt: FindingFilter, sort: str, desc: bool, limit: int) -> Iterator[dict]:
        """Rows of the current selection for export, streamed in batches."""
        self._need("findings")
        where, params = self._finding_where(flt)
        order = SORTS.get(sort, "f.occur_time")
        person = self.has("psn_info")
        inst = self.has("fixmedins")
        sql = f"""
            SELECT f.*, {"p.psn_name" if person else "CAST(NULL AS VARCHAR) AS psn_name"},
                   {"m.fixmedins_name" if inst else "CAST(NULL AS VARCHAR) AS fixmedins_name"}
            FROM (SELECT * FROM findings f WHERE {where}
                  ORDER BY {order} {"DESC" if desc else "ASC"} NULLS LAST, f.finding_id LIMIT ?) f
            {"LEFT JOIN psn_info p ON p.psn_no = f.psn_no" if person else ""}
            {"LEFT JOIN fixmedins m ON m.fixmedins_code = f.fixmedins_code" if inst else ""}
            ORDER BY {order} {"DESC" if desc else "ASC"} NULLS LAST, f.finding_id
        """
        cur = self.con.execute(sql, [*params, limit])
        names = [d[0] for d in cur.description]
        while batch := cur.fetchmany(5000):
            for r in batch:
                yield dict(zip(names, r, strict=True))

    def finding(self, finding_id: str) -> dict | None:
        self._need("findings")
        cond, params = self.scope.sql("f.fixmedins_code", "f.admdvs")
        rows = self.q(
            f"SELECT {FINDING_COLUMNS} FROM findings f WHERE f.finding_id = ? AND {cond}", [finding_id, *params]
        )
        if not rows:
            return None
        row = rows[0]
        try:
            row["evidence_obj"] = json.loads(row["evidence"]) if row.get("evidence") else {}
        except (TypeError, ValueError):
            row["evidence_obj"] = {"原文": row["evidence"]}
        return row

    def visible_ids(self, finding_ids: list[str]) -> list[str]:
        """The subset of finding_ids that exist and lie within scope."""
        if not finding_ids:
            return []
        self._need("findings")
        cond, params = self.scope.sql("f.fixmedins_code", "f.admdvs")
        marks = ", ".join("?" for _ in finding_ids)
        rows = self.con.execute(
            f"SELECT finding_id FROM findings f WHERE f.finding_id IN ({marks}) AND {cond}", [*finding_ids, *params]
        ).fetchall()
        return [r[0] for r in rows]

    def filter_options(self) -> dict:
        """Values for the filter drop-downs, within scope."""
        out: dict = {"rules": [], "institutions": [], "regions": []}
        if self.has("findings"):
            cond, params = self.scope.sql("f.fixmedins_code", "f.admdvs")
            out["rules"] = self.q(
                f"SELECT rule_code, any_value(rule_name) AS rule_name FROM findings f WHERE {cond} "
                "GROUP BY rule_code ORDER BY rule_code",
                params,
            )
        if self.has("fixmedins"):
            cond, params = self.scope.sql("fixmedins_code", "admdvs")
            out["institutions"] = self.q(
                f"SELECT fixmedins_code, fixmedins_name, fixmedins_type, hosp_lv, admdvs FROM fixmedins WHERE {cond} "
                "ORDER BY fixmedins_code",
                params,
            )
            out["regions"] = sorted({r["admdvs"] for r in out["institutions"] if r["admdvs"]})
        return out

    # ---- drill-down -----------------------------------------------------------------------------------------

    def settlement(self, setl_id: str) -> dict | None:
        if not setl_id or not self.has("setl_d"):
            return None
        cond, params = self.scope.sql("s.fixmedins_code")
        rows = self.q(f"SELECT s.* FROM setl_d s WHERE s.setl_id = ? AND {cond}", [setl_id, *params])
        return rows[0] if rows else None

    def fee_lines(self, setl_id: str, limit: int = 500) -> list[dict]:
        if not setl_id or not self.has("fee_list_d"):
            return []
        cond, params = self.scope.sql("l.fixmedins_code")
        return self.q(
            f"SELECT l.* FROM fee_list_d l WHERE l.setl_id = ? AND {cond} ORDER BY l.fee_ocur_time, l.feedetl_sn LIMIT ?",
            [setl_id, *params, limit],
        )

    def visit(self, mdtrt_id: str) -> dict | None:
        if not mdtrt_id or not self.has("mdtrt_d"):
            return None
        cond, params = self.scope.sql("v.fixmedins_code")
        rows = self.q(f"SELECT v.* FROM mdtrt_d v WHERE v.mdtrt_id = ? AND {cond}", [mdtrt_id, *params])
        return rows[0] if rows else None

    def person(self, psn_no: str) -> dict | None:
        """Person master data; only for a person who appears in a finding the user may see (callers ensure)."""
        if not psn_no or not self.has("psn_info"):
            return None
        rows = self.q("SELECT * FROM psn_info WHERE psn_no = ?", [psn_no])
        return rows[0] if rows else None

    def person_history(self, psn_no: str, limit: int = 200) -> list[dict]:
        """The person's visits and settlements within scope, newest first."""
        if not psn_no or not self.has("mdtrt_d"):
            return []
        cond, params = self.scope.sql("v.fixmedins_code")
        has_setl = self.has("setl_d")
        has_inst = self.has("fixmedins")
        sql = f"""
            SELECT v.mdtrt_id, v.fixmedins_code, {"m.fixmedins_name" if has_inst else "NULL AS fixmedins_name"},
                   v.med_type, v.begntime, v.endtime, v.dscg_maindiag_code, v.dscg_maindiag_name,
                   {
            "s.setl_id, s.setl_time, s.medfee_sumamt, s.fund_pay_sumamt"
            if has_setl
            else "NULL AS setl_id, NULL AS setl_time, NULL AS medfee_sumamt, NULL AS fund_pay_sumamt"
        }
            FROM mdtrt_d v
            {"LEFT JOIN setl_d s ON s.mdtrt_id = v.mdtrt_id" if has_setl else ""}
            {"LEFT JOIN fixmedins m ON m.fixmedins_code = v.fixmedins_code" if has_inst else ""}
            WHERE v.psn_no = ? AND {cond}
            ORDER BY v.begntime DESC, v.mdtrt_id LIMIT ?
        """
        return self.q(sql, [psn_no, *params, limit])

    def institution(self, code: str) -> dict | None:
        if not code or not self.has("fixmedins"):
            return None
        cond, params = self.scope.sql("fixmedins_code", "admdvs")
        rows = self.q(f"SELECT * FROM fixmedins WHERE fixmedins_code = ? AND {cond}", [code, *params])
        return rows[0] if rows else None

    # ---- knowledge ------------------------------------------------------------------------------------------

    def kb_point(self, kp_id: str) -> dict | None:
        if not kp_id or not self.has("kb_point"):
            return None
        rows = self.q("SELECT * FROM kb_point WHERE kp_id = ?", [kp_id])
        return rows[0] if rows else None

    def kb_points(self, kp_types: list[str], page: int, size: int) -> Page:
        if not kp_types or not self.has("kb_point"):
            return Page([], 0, 1, size)
        marks = ", ".join("?" for _ in kp_types)
        total = self.con.execute(f"SELECT count(*) FROM kb_point WHERE kp_type IN ({marks})", kp_types).fetchall()[0][0]
        rows = self.q(
            f"SELECT * FROM kb_point WHERE kp_type IN ({marks}) ORDER BY kp_type, med_list_codg, kp_id LIMIT ? OFFSET ?",
            [*kp_types, size, (max(1, page) - 1) * size],
        )
        return Page(rows, int(total), page, size)

    def kb_counts(self) -> dict[str, int]:
        if not self.has("kb_point"):
            return {}
        return {r["kp_type"]: r["n"] for r in self.q("SELECT kp_type, count(*) AS n FROM kb_point GROUP BY kp_type")}
