"""ICD-10 医保版 / ICD-9-CM-3 / CHS-DRG 1.1 text tables (.dat: "code<space>text" per line).

The CHS-DRG distribution names its tables by file (ZD_INFO, SS_INFO, DRG, CC, MCC, CCE): CC, MCC and CCE
share one shape ("code table_no"), so those three are told apart by file stem; the others are also
recognised by content.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fundguard.errors import Problem

SOURCE = "CHS-DRG 1.1 / 医保版编码"
ICD10 = re.compile(r"^[A-Z]\d{2}[0-9A-Za-z.+*]*$")
ICD9 = re.compile(r"^\d{2}(\.[0-9A-Za-z]+)?$")
DRG = re.compile(r"^[A-Z]{2}[0-9A-Z]{2}$")

_STEM_LAYOUT = {"CC": "drg_cc", "MCC": "drg_mcc", "CCE": "drg_cce"}


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # regional code lists are often GBK
    return [(i, ln.split(None, 1)) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]


def detect(path: Path) -> str | None:
    stem = path.stem.upper()
    if stem in _STEM_LAYOUT:
        return _STEM_LAYOUT[stem]
    if stem.endswith("_MAP"):
        return None  # version maps, not knowledge
    sample = _lines(path)[:200]
    if not sample or any(len(p) < 2 for _, p in sample):
        return None
    codes = [p[0] for _, p in sample]
    if all(DRG.match(c) for c in codes):
        return "drg_group"
    if all(ICD10.match(c) for c in codes):
        return "icd10"
    if all(ICD9.match(c) for c in codes):
        return "icd9cm3"
    return None


def latest_weights(files: list[Path]) -> tuple[dict[str, float], str | None]:
    """DRG code → weight from the latest year among *.weights.json files (year = file stem)."""
    dated = sorted((int(m.group(1)), f) for f in files if (m := re.match(r"(\d{4})", f.name)))
    if not dated:
        return {}, None
    year, f = dated[-1]
    data = json.loads(f.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data.get("weights", {}).items()}, f"{f.parent.name}/{year}"


def read(path: Path, layout: str, weight_files: list[Path]) -> tuple[list[dict], list[Problem]]:
    problems: list[Problem] = []
    points: list[dict] = []
    weights, wsrc = latest_weights(weight_files) if layout == "drg_group" else ({}, None)
    for n, parts in _lines(path):
        if len(parts) < 2:
            problems.append(
                Problem(
                    file=path.name,
                    row=n,
                    field="名称",
                    reason_zh="缺少名称或表号",
                    reason_en="missing name or table number",
                    value=" ".join(parts),
                )
            )
            continue
        codg, text = parts[0].strip(), parts[1].strip()
        base = {
            "med_list_codg": codg,
            "source": SOURCE,
            "source_file": path.name,
            "source_row": n,
            "batch": "CHS-DRG 1.1",
        }
        if layout in ("icd10", "icd9cm3"):
            points.append({**base, "kp_type": layout, "item_name": text})
        elif layout == "drg_group":
            w = weights.get(codg)
            points.append(
                {
                    **base,
                    "kp_type": "drg_group",
                    "item_name": text,
                    "limit_num": w,
                    "description": f"权重来源 {wsrc}" if w is not None else None,
                }
            )
        else:
            kind = {"drg_cc": "CC", "drg_mcc": "MCC", "drg_cce": None}[layout]
            if kind:
                points.append({**base, "kp_type": "drg_cc", "limit_value": kind, "group_name": text})
            else:
                points.append({**base, "kp_type": "drg_cc_exclusion", "group_name": text})
    return points, problems
