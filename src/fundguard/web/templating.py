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


EVIDENCE_LABELS = {
    "kp_id": "知识点ID",
    "detail": "判定事实",
    "params": "参数取值",
    "knowledge_source": "知识来源",
    "knowledge_types": "知识类型",
    "legal_basis": "法律依据",
    "rule_code": "规则编码",
    "rule_name": "规则名称",
    "library_version": "规则库版本",
}
# Shown elsewhere on the detail page already.
EVIDENCE_HIDDEN = {"rule_code", "rule_name", "legal_basis", "library_version"}


def evidence_text(value) -> str:
    """A JSON evidence value as readable text: mappings as 'k：v；…', lists joined with '、'."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "；".join(f"{k}：{evidence_text(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return "、".join(evidence_text(v) for v in value)
    return str(value)


def evidence_items(evidence: dict) -> list[tuple[str, str]]:
    return [
        (EVIDENCE_LABELS.get(k, k), evidence_text(v))
        for k, v in (evidence or {}).items()
        if k not in EVIDENCE_HIDDEN and v not in (None, "", [], {})
    ]


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
        evidence_items=evidence_items,
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
