"""Masking of personal information (姓名, 证件号码, 电话) in lists, detail pages and exports."""

from __future__ import annotations

PERSONAL_FIELDS = ("psn_name", "certno", "tel", "prac_name")


def mask_name(v: str | None) -> str:
    if not v:
        return ""
    return v[0] + "*" * max(1, len(v) - 1)


def mask_certno(v: str | None) -> str:
    if not v:
        return ""
    if len(v) <= 8:
        return v[:1] + "*" * (len(v) - 1)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_tel(v: str | None) -> str:
    if not v:
        return ""
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_row(row: dict) -> dict:
    out = dict(row)
    for key, fn in (("psn_name", mask_name), ("certno", mask_certno), ("tel", mask_tel)):
        if key in out:
            out[key] = fn(out[key])
    return out
