"""The views every rule query reads (docs/rule-authoring.md), defined once for DuckDB and Spark.

Views hold only valid rows (vali_flag '1'; a missing flag counts as valid). Columns the schema
declares but a warehouse table lacks are added as typed NULLs, so a rule never fails on an older
load; a table missing altogether is created empty from the schema DDL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fundguard.data import schema
from fundguard.data.codes import HOSP_LV_TIER_SQL, INPATIENT_MED_TYPES
from fundguard.kb.types import KB_POINT_COLUMNS

# view name → source table
VIEW_TABLES: dict[str, str] = {
    "fee": "fee_list_d",
    "setl": "setl_d",
    "mdtrt": "mdtrt_d",
    "psn": "psn_info",
    "medins": "fixmedins",
    "diag": "diag_d",
    "oprn": "oprn_d",
    "inventory": "inventory_d",
    "prac": "practitioner",
    "equip": "medins_equip_d",
    "kb": "kb_point",
}
# Tables whose rows belong to a visit: the incremental scope restricts these by mdtrt_id.
VISIT_SCOPED = ("fee", "setl", "mdtrt", "diag", "oprn")


def table_columns(name: str) -> dict[str, str]:
    """Schema columns and SQL types of a source table (kb_point from the knowledge contract)."""
    if name == "kb_point":
        return dict(KB_POINT_COLUMNS)
    return {c.name: c.sql_type for c in schema.table(name).columns}


def ddl(name: str, table_name: str | None = None, temp: bool = False) -> str:
    cols = ",\n  ".join(f"{c} {t}" for c, t in table_columns(name).items())
    return f"CREATE {'TEMP ' if temp else ''}TABLE IF NOT EXISTS {table_name or name} (\n  {cols}\n)"


@dataclass(frozen=True)
class Scope:
    """What a screen looks at: the period (for knowledge validity) and the region (for kb rows)."""

    period_start: dt.date | None = None
    period_end: dt.date | None = None
    admdvs: str | None = None
    visit_table: str | None = None  # relation with one column mdtrt_id: restrict visit data to it


# 住院 by med_type: the national inpatient codes, or a 4+ digit local code under 2 (e.g. 2101 普通住院). A simple
# CASE, not `IN (…)`: DuckDB plans a long IN list as a join that stays in every scan of the view even when the
# column is not read (≈ 0.08 s per scan of 20M fee lines; docs/performance.md, round 6).
_INPATIENT = (
    "(CASE med_type "
    + " ".join(f"WHEN '{c}' THEN TRUE" for c in INPATIENT_MED_TYPES)
    + " ELSE FALSE END OR (length(med_type) >= 4 AND med_type LIKE '2%'))"
)


def _lit(d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'"


def view_sql(view: str, source: str, present: set[str], scope: Scope) -> str:
    """SELECT (DuckDB dialect, portable) defining one view over relation `source`."""
    table = VIEW_TABLES[view]
    cols = table_columns(table)
    select = [c if c in present else f"CAST(NULL AS {t}) AS {c}" for c, t in cols.items()]
    select += sorted(c for c in present if c not in cols and not c.startswith("_"))
    where: list[str] = []
    if "vali_flag" in cols:
        where.append("coalesce(vali_flag, '1') = '1'")
    extra: list[str] = []
    if view == "fee":
        extra = [
            "CAST(fee_ocur_time AS DATE) AS fee_date",
            "coalesce(inscp_scp_amt, det_item_fee_sumamt) AS amt",
            # the line's own 医疗类别 (the backend fee table carries it) read the way mdtrt.is_inpatient reads the
            # visit's; NULL for a line without one (decision 0019: such a line takes its visit's)
            f"CASE WHEN med_type IS NULL THEN NULL ELSE {_INPATIENT} END AS line_is_inpatient",
        ]
    elif view == "setl":
        # the settlement's own 医疗类别 (setlinfo carries it), as for fee lines (decision 0019)
        extra = [f"CASE WHEN med_type IS NULL THEN NULL ELSE {_INPATIENT} END AS setl_is_inpatient"]
    elif view == "mdtrt":
        extra = [
            f"{_INPATIENT} AS is_inpatient",
            "CAST(begntime AS DATE) AS begndate",
            "CAST(endtime AS DATE) AS enddate",
        ]
    elif view == "medins":
        extra = [HOSP_LV_TIER_SQL.format(c="hosp_lv") + " AS hosp_tier"]
    elif view == "kb":
        if scope.period_end is not None:
            where.append(f"(begndate IS NULL OR begndate <= {_lit(scope.period_end)})")
        if scope.period_start is not None:
            where.append(f"(enddate IS NULL OR enddate >= {_lit(scope.period_start)})")
        if scope.admdvs:
            where.append(f"(admdvs IS NULL OR admdvs = '' OR admdvs = '{scope.admdvs}')")
    if scope.visit_table and view in VISIT_SCOPED:
        where.append(f"mdtrt_id IN (SELECT mdtrt_id FROM {scope.visit_table})")
    # mdtrt/setl/... define begndate/enddate themselves; avoid a duplicate name from the table
    if view == "mdtrt":
        select = [s for s in select if s not in ("begndate", "enddate")]
    sql = f"SELECT {', '.join(select + extra)} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql


def view_definitions(
    present_columns: Callable[[str], set[str] | None],
    scope: Scope,
    source_name: Callable[[str], str] = lambda t: t,
    view_name: Callable[[str], str] = lambda v: v,
) -> tuple[list[tuple[str, str]], list[str]]:
    """(view name, SELECT) for every view, then every shared relation (engine.shared, over those views),
    and the source tables that are missing (create them empty)."""
    from fundguard.engine.shared import shared_relations

    views: list[tuple[str, str]] = []
    missing: list[str] = []
    for view, table in VIEW_TABLES.items():
        present = present_columns(table)
        if present is None:
            missing.append(table)
            present = set(table_columns(table))
        views.append((view_name(view), view_sql(view, source_name(table), present, scope)))
    views += [(view_name(name), sql) for name, sql in shared_relations().items()]
    return views, missing
