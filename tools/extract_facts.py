"""Extract the compact facts the synthetic region needs from the shipped official reference files.

Reading the NHSA 两库 .xlsx files takes seconds; the generator must build a demo region in seconds,
so this offline step parses them with the knowledge base's importer (fundguard.kb.importers.read_points,
the same parser whose points the rules read) and flattens what the generator needs into small CSVs under
src/fundguard/resources/facts/ (committed). Rerun after the reference files change:

    .venv/bin/python tools/extract_facts.py

Output (UTF-8 CSV):
- drugs.csv       one row per drug 国标代码 (Sheet2 of the drug batches) with every 两库 restriction
                  that applies to it, plus 甲/乙 class matched from the NRDL 2024 by generic name and the
                  ICD-10 prefixes of its NRDL 限适应症 (`indication`, comma-separated; the points that
                  name the code, as GZ10000101008000 reads them)
- items.csv       one row per 15-digit service item code named in the item batches, with its
                  restrictions (gender, age, frequency, cycle, course, 主次手术 group)
- item_pairs.csv  the 重复收费 pairs (主项, 从项, 频度)
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fundguard.kb.importers import read_points

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "src/fundguard/resources/reference"
LK = REF / "nhsa-liangku"
OUT = ROOT / "src/fundguard/resources/facts"

# 普通门诊诊查费: the national code is documented (domain notes §1.10) but not in any shipped batch;
# every outpatient visit needs one 诊查费 line.
EXTRA_ITEMS = [("001102000010000", "普通门诊诊查费")]


def _points() -> pd.DataFrame:
    """All 两库 knowledge points, parsed by the knowledge base's own importer (fundguard.kb.importers)."""
    return pd.concat([read_points(p) for p in sorted(LK.glob("*.xlsx"))], ignore_index=True)


def _nrdl_classes() -> dict[str, str]:
    """Generic name → 甲|乙 from the NRDL 2024 (kp_type drug_class, by name)."""
    pts = read_points(REF / "nrdl-2024/yao.xlsx")
    cls = pts[pts["kp_type"] == "drug_class"]
    out: dict[str, str] = {}
    for name, value in zip(cls["item_name"], cls["limit_value"], strict=True):
        for part in re.split(r"[()（）]", str(name)):
            if part.strip():
                out.setdefault(part.strip(), str(value))
    return out


def _nrdl_indications() -> dict[str, str]:
    """Drug code → ICD-10 prefixes of its NRDL payment indications (kp_type drug_indication)."""
    pts = read_points(REF / "nrdl-2024/yao.xlsx")
    ind = pts[(pts["kp_type"] == "drug_indication") & pts["med_list_codg"].notna() & pts["related_codg"].notna()]
    out: dict[str, set[str]] = {}
    for code, icd in zip(ind["med_list_codg"], ind["related_codg"], strict=True):
        out.setdefault(code, set()).add(str(icd))
    return {c: ",".join(sorted(v)) for c, v in out.items()}


def _first(pts: pd.DataFrame, kp_type: str, column: str, convert=str) -> dict[str, str]:
    sel = pts[(pts["kp_type"] == kp_type) & pts["med_list_codg"].notna()]
    return {c: convert(v) for c, v in zip(sel["med_list_codg"], sel[column], strict=True) if pd.notna(v)}


def _int(v) -> str:
    return str(int(float(v)))


def drugs(pts: pd.DataFrame) -> pd.DataFrame:
    sel = pts[pts["kp_type"].str.startswith("drug_") & pts["med_list_codg"].notna()]
    names = dict(zip(sel["med_list_codg"], sel["item_name"], strict=True))
    cols = {
        "gender": _first(pts, "drug_gender", "limit_value"),
        "age": _first(pts, "drug_age", "limit_value"),
        "insutype": _first(pts, "drug_insutype", "limit_value"),
        "med_type": _first(pts, "drug_med_type", "limit_value"),
        "min_tier": _first(pts, "drug_hosp_lv", "limit_num", _int),
        "course_days": _first(pts, "drug_course", "limit_num", _int),
    }
    df = pd.DataFrame({"med_list_codg": sorted(names)})
    df["drug_name"] = df["med_list_codg"].map(names)
    for c, m in cols.items():
        df[c] = df["med_list_codg"].map(m).fillna("")
    df["indication"] = df["med_list_codg"].map(_nrdl_indications()).fillna("")
    classes = _nrdl_classes()
    ordered = sorted(classes, key=len, reverse=True)

    def cls(name: str) -> str:
        for n in ordered:
            if len(n) >= 2 and name.startswith(n):
                return classes[n]
        return "乙"

    df["chrgitm_lv"] = df["drug_name"].map(lambda n: "01" if cls(n) == "甲" else "02")
    df["med_chrgitm_type"] = df["med_list_codg"].str[0].map({"X": "09", "Z": "11"})
    return df


def items(pts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    sel = pts[pts["kp_type"].str.startswith(("item_", "surgery_")) & pts["med_list_codg"].notna()]
    names: dict[str, str] = dict(EXTRA_ITEMS)
    for c, n in zip(sel["med_list_codg"], sel["item_name"], strict=True):
        names.setdefault(c, n)
    pairs = pts[pts["kp_type"] == "item_dup_pair"]
    for c, n in zip(pairs["related_codg"], pairs["related_name"], strict=True):
        names.setdefault(c, n)
    cols = {
        "gender": _first(pts, "item_gender", "limit_value"),
        "age": _first(pts, "item_age", "limit_value"),
        "surgery_group": _first(pts, "surgery_group", "group_name"),
        "freq_limit": _first(pts, "item_frequency", "limit_num", _int),
        "freq_unit": _first(pts, "item_frequency", "limit_unit"),
        "course_days": _first(pts, "item_course", "limit_num", _int),
        "cycle_limit": _first(pts, "item_cycle", "limit_num", _int),
        "cycle_days": _first(pts, "item_cycle", "window_days", _int),
    }
    df = pd.DataFrame({"med_list_codg": sorted(names)})
    df["item_name"] = df["med_list_codg"].map(names)
    for c, m in cols.items():
        df[c] = df["med_list_codg"].map(m).fillna("")
    p = pd.DataFrame(
        {"main_codg": pairs["med_list_codg"], "sub_codg": pairs["related_codg"], "window": pairs["limit_value"]}
    ).drop_duplicates()
    return df, p


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pts = _points()
    drugs(pts).to_csv(OUT / "drugs.csv", index=False)
    it, pairs = items(pts)
    it.to_csv(OUT / "items.csv", index=False)
    pairs.to_csv(OUT / "item_pairs.csv", index=False)
    for p in sorted(OUT.glob("*.csv")):
        print(p.relative_to(ROOT), sum(1 for _ in p.open(encoding="utf-8")) - 1, "rows")


if __name__ == "__main__":
    main()
