"""Building kb_point rows: defaults, stable ids, and the DataFrame in contract column order."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

import pandas as pd

from fundguard.kb.types import KB_POINT_COLUMNS, KP_TYPES

DEFAULT_BEGNDATE = dt.date(2020, 1, 1)

# Parts of a point that make it a different point; kp_id hashes these, so re-reading the same file
# gives the same ids and two restrictions on one code stay two points.
_ID_FIELDS = (
    "kp_type",
    "med_list_codg",
    "code_prefix",
    "item_name",
    "related_codg",
    "limit_value",
    "limit_num",
    "window_days",
    "group_name",
    "admdvs",
    "batch",
    "description",
)


def kp_id(point: dict) -> str:
    parts = []
    for f in _ID_FIELDS:
        v = point.get(f)
        if f == "item_name" and point.get("med_list_codg"):
            v = None  # a coded point is identified by its code, not by how the batch spelt the name
        parts.append("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def empty_frame() -> pd.DataFrame:
    return frame([])


def frame(points: Iterable[dict], effective: dt.date | None = None) -> pd.DataFrame:
    """Rows → DataFrame in KB_POINT_COLUMNS order with ids, default dates and exact duplicates removed."""
    rows = []
    seen: set[str] = set()
    for p in points:
        if p.get("kp_type") not in KP_TYPES:
            raise ValueError(f"importer emitted unknown kp_type {p.get('kp_type')!r}")
        p = dict(p)
        if p.get("begndate") is None:
            p["begndate"] = effective or DEFAULT_BEGNDATE
        p["kp_id"] = kp_id(p)
        if p["kp_id"] in seen:
            continue
        seen.add(p["kp_id"])
        rows.append(p)
    df = pd.DataFrame(rows, columns=list(KB_POINT_COLUMNS))
    for col, typ in KB_POINT_COLUMNS.items():
        if typ == "DOUBLE":
            df[col] = pd.to_numeric(df[col], errors="raise").astype("float64")
        elif typ == "INTEGER":
            df[col] = pd.array(df[col].tolist(), dtype="Int64") if len(df) else pd.array([], dtype="Int64")
        elif typ == "DATE":
            df[col] = pd.to_datetime(df[col]).dt.date if len(df) else pd.Series([], dtype="object")
        else:
            df[col] = df[col].astype("object").where(df[col].notna(), None)
    return df
