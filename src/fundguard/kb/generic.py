"""The generic CSV layout (curated and local knowledge) and the site's 通用名→国标代码 map.

Generic CSV: UTF-8 with a header of kb_point columns, without kp_id, kb_version, source_file and
source_row (the importer sets those). Only kp_type and one of med_list_codg / code_prefix / item_name
are required.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from fundguard.errors import Problem
from fundguard.kb.types import KB_POINT_COLUMNS, KP_TYPES

AUTO_COLUMNS = ("kp_id", "kb_version", "source_file", "source_row")
GENERIC_COLUMNS = [c for c in KB_POINT_COLUMNS if c not in AUTO_COLUMNS]
KEY_COLUMNS = ("med_list_codg", "code_prefix", "item_name")

NAME_MAP_NAME = ("通用名", "药品通用名", "item_name")
NAME_MAP_CODE = ("国标代码", "药品代码", "med_list_codg")


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def header(path: Path) -> list[str]:
    reader = csv.reader(io.StringIO(read_text(path)))
    return [h.strip() for h in next(reader, [])]


def is_generic(cols: list[str]) -> bool:
    return "kp_type" in cols


def is_name_map(cols: list[str]) -> bool:
    return len(cols) >= 2 and cols[0] in NAME_MAP_NAME and cols[1] in NAME_MAP_CODE


def read_generic(path: Path, effective: dt.date | None) -> tuple[list[dict], list[Problem]]:
    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(read_text(path)))
    cols = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = cols

    def bad(row: int | None, field: str | None, zh: str, en: str, value=None) -> None:
        problems.append(Problem(file=path.name, row=row, field=field, reason_zh=zh, reason_en=en, value=value))

    for c in cols:
        if c not in GENERIC_COLUMNS:
            bad(
                None,
                c,
                "未知的列（应为 kb_point 的列，且不含 kp_id/kb_version/source_file/source_row）",
                "unknown column (must be a kb_point column other than kp_id/kb_version/source_file/source_row)",
            )
    if not any(k in cols for k in KEY_COLUMNS):
        bad(
            None,
            "med_list_codg",
            "缺少必需的列：med_list_codg、code_prefix、item_name 至少一列",
            "required column missing: one of med_list_codg, code_prefix, item_name",
        )
    if problems:
        return [], problems
    points: list[dict] = []
    for n, rec in enumerate(reader, start=1):
        p: dict = {}
        ok = True
        for c in cols:
            v = (rec.get(c) or "").strip() or None
            typ = KB_POINT_COLUMNS[c]
            if v is None:
                p[c] = None
            elif typ in ("DOUBLE", "INTEGER"):
                try:
                    p[c] = float(v) if typ == "DOUBLE" else int(float(v))
                except ValueError:
                    bad(n, c, "不是数字", "not a number", v)
                    ok = False
            elif typ == "DATE":
                try:
                    p[c] = dt.date.fromisoformat(v.replace("/", "-"))
                except ValueError:
                    bad(n, c, "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD", v)
                    ok = False
            else:
                p[c] = v
        if not ok:
            continue
        if p.get("kp_type") not in KP_TYPES:
            bad(
                n,
                "kp_type",
                "未知的知识点类型（见 kb/types.py KP_TYPES）",
                "unknown kp_type (see KP_TYPES)",
                p.get("kp_type"),
            )
            continue
        if not any(p.get(k) for k in KEY_COLUMNS):
            bad(
                n,
                "med_list_codg",
                "编码为空：med_list_codg、code_prefix、item_name 至少填一项",
                "empty code: fill one of med_list_codg, code_prefix, item_name",
            )
            continue
        p.setdefault("source", "本地知识库")
        p["source"] = p.get("source") or "本地知识库"
        p.update(source_file=path.name, source_row=n)
        if p.get("begndate") is None:
            p["begndate"] = effective
        points.append(p)
    return points, problems


def read_name_map(path: Path) -> tuple[list[tuple[str, str]], list[Problem]]:
    """A site's 通用名,国标代码 CSV → pairs (an empty name or code is a problem)."""
    reader = csv.reader(io.StringIO(read_text(path)))
    next(reader, None)
    pairs: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for n, row in enumerate(reader, start=1):
        if not any(c.strip() for c in row):
            continue
        name = row[0].strip() if row else ""
        codg = row[1].strip().replace(" ", "") if len(row) > 1 else ""
        if not name or not codg:
            problems.append(
                Problem(
                    file=path.name,
                    row=n,
                    field="通用名" if not name else "国标代码",
                    reason_zh="通用名或国标代码为空",
                    reason_en="empty generic name or code",
                )
            )
            continue
        pairs.append((name, codg))
    return pairs, problems
