"""Jinja2 environment with the helpers templates use (roles, money, masking, permissions)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates

from fundguard.data import codes as code_tables
from fundguard.store.oplog import ACTIONS
from fundguard.store.roles import CONCLUSIONS, REVIEW_STATUSES, ROLES, can, role_zh
from fundguard.web.masking import mask_certno, mask_name, mask_tel


def money(v) -> str:
    if v is None or v == "":
        return ""
    return f"{float(v):,.2f}"


def dt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def code_label(table: str, value) -> str:
    """'value 名称' from the national code tables (fundguard.data.codes)."""
    if value is None or value == "":
        return ""
    try:
        name = code_tables.valid_codes_for(table).label(str(value))
    except KeyError:
        return str(value)
    return f"{value} {name}" if name and name != str(value) else str(value)


def qs(params: dict, **changes) -> str:
    merged = {**{k: v for k, v in params.items() if v not in ("", None)}, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


def make_templates(folder: Path) -> Jinja2Templates:
    t = Jinja2Templates(directory=str(folder))
    t.env.globals.update(
        ROLES=ROLES,
        ACTIONS=ACTIONS,
        REVIEW_STATUSES=REVIEW_STATUSES,
        CONCLUSIONS=CONCLUSIONS,
        can=can,
        role_zh=role_zh,
        qs=qs,
        code_label=code_label,
    )
    t.env.filters.update(
        money=money,
        dt=dt,
        mask_name=mask_name,
        mask_certno=mask_certno,
        mask_tel=mask_tel,
        decimal=lambda v: float(v) if isinstance(v, Decimal) else v,
    )
    return t
