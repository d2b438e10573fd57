"""Settlement messages rebuilt from stored claims, to replay past settlements through the audit API
(batch = real-time checks, load tests, "what would the 事中 audit have said" for a 稽核 case).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb

from fundguard.data import schema
from fundguard.data.codes import INPATIENT_MED_TYPES

_SKIP_LINE = {"mdtrt_id", "setl_id", "psn_no", "fixmedins_code"}


def _json(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def _rows(con: duckdb.DuckDBPyConnection, sql: str, args: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [{k: _json(v) for k, v in zip(names, r, strict=True) if v is not None} for r in cur.fetchall()]


def settlement_message(
    con: duckdb.DuckDBPyConnection, setl_id: str, prefix: str = "", msgid: str | None = None
) -> dict[str, Any] | None:
    """The 2207/2304 message of a stored settlement (tables named `{prefix}fee_list_d` …), or None."""
    setl = _rows(con, f"SELECT * FROM {prefix}setl_d WHERE setl_id = ?", [setl_id])
    if not setl:
        return None
    s = setl[0]
    visit = _rows(con, f"SELECT * FROM {prefix}mdtrt_d WHERE mdtrt_id = ?", [s["mdtrt_id"]])
    mdtrt = visit[0] if visit else {"mdtrt_id": s["mdtrt_id"], "psn_no": s["psn_no"], "med_type": s["med_type"]}
    mdtrt = {k: v for k, v in mdtrt.items() if k in schema.MDTRT_D.column_names and k != "fixmedins_code"}
    mdtrt.setdefault("insutype", s.get("insutype"))
    fee_cols = [c for c in schema.FEE_LIST_D.column_names if c not in _SKIP_LINE]
    lines = _rows(
        con,
        f"SELECT {', '.join(fee_cols)} FROM {prefix}fee_list_d WHERE setl_id = ? ORDER BY fee_ocur_time, feedetl_sn",
        [setl_id],
    )
    diag_cols = [c for c in schema.DIAG_D.column_names if c != "mdtrt_id"]
    diags = _rows(
        con,
        f"SELECT {', '.join(diag_cols)} FROM {prefix}diag_d WHERE mdtrt_id = ? ORDER BY diag_srt_no",
        [s["mdtrt_id"]],
    )
    oprn_cols = [c for c in schema.OPRN_D.column_names if c != "mdtrt_id"]
    oprns = _rows(
        con,
        f"SELECT {', '.join(oprn_cols)} FROM {prefix}oprn_d WHERE mdtrt_id = ? ORDER BY oprn_srt_no",
        [s["mdtrt_id"]],
    )
    inpatient = mdtrt.get("med_type") in INPATIENT_MED_TYPES
    return {
        "infno": "2304" if inpatient else "2207",
        "msgid": msgid or f"RP{setl_id}"[:30],
        "fixmedins_code": s["fixmedins_code"],
        "inf_time": s["setl_time"],
        "input": {
            "mdtrtinfo": mdtrt,
            "diseinfo": diags,
            "oprninfo": oprns,
            "feedetail": lines,
            "setlinfo": {k: v for k, v in s.items() if k not in ("mdtrt_id", "psn_no", "fixmedins_code")},
        },
    }
