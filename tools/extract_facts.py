"""Extract the compact facts the synthetic region needs from the shipped official reference files.

Reading the NHSA 两库 .xlsx files takes seconds; the generator must build a demo region in seconds,
so this offline step flattens what it needs into small CSVs under
src/fundguard/resources/facts/ (committed). Rerun after the reference files change:

    .venv/bin/python tools/extract_facts.py

Output (UTF-8 CSV):
- drugs.csv       one row per drug 国标代码 (Sheet2 of the drug batches) with every 两库 restriction
                  that applies to it, plus 甲/乙 class matched from the NRDL 2024 by generic name
- items.csv       one row per 15-digit service item code named in the item batches, with its
                  restrictions (gender, age, frequency, cycle, course, 主次手术 group)
- item_pairs.csv  the 重复收费 pairs (主项, 从项, 频度)
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "src/fundguard/resources/reference"
LK = REF / "nhsa-liangku"
OUT = ROOT / "src/fundguard/resources/facts"

# 普通门诊诊查费: the national code is documented (domain notes §1.10) but not in any shipped batch;
# every outpatient visit needs one 诊查费 line.
EXTRA_ITEMS = [("001102000010000", "普通门诊诊查费")]


def _xlsx(pattern: str) -> dict[str, pd.DataFrame]:
    (path,) = LK.glob(pattern)
    return pd.read_excel(path, sheet_name=None, header=0, dtype=str)


def _clean(s: object) -> str:
    return "" if s is None or (isinstance(s, float) and pd.isna(s)) else str(s).strip()


def _drug_batch(pattern: str, column: str, value_of) -> pd.DataFrame:
    """Sheet1 = one row per generic name with the restriction; Sheet2 = its 国标代码 list."""
    sheets = _xlsx(pattern)
    s1, s2 = list(sheets.values())[:2]
    name_col = s1.columns[0]
    restriction = {_clean(r[name_col]): value_of(r) for _, r in s1.iterrows() if _clean(r[name_col])}
    code_col = s2.columns[2]
    rows = []
    for _, r in s2.iterrows():
        name, code = _clean(r[s2.columns[0]]), _clean(r[code_col])
        if not re.fullmatch(r"[XZ][A-Z0-9]{19,22}", code):
            continue
        rows.append({"med_list_codg": code, "drug_name": name, column: restriction.get(name, "")})
    return pd.DataFrame(rows)


def _nrdl_classes() -> dict[str, str]:
    """Generic name → 甲|乙 from the NRDL 西药/中成药 parts (column 11 = 甲乙, 13 = name)."""
    book = pd.read_excel(REF / "nrdl-2024/yao.xlsx", sheet_name=None, header=None, dtype=str)
    out: dict[str, str] = {}
    for df in book.values():
        for _, r in df.iterrows():
            cls = _clean(r.iloc[11]) or _clean(r.iloc[8])
            name = _clean(r.iloc[13]) if df.shape[1] > 13 else ""
            if df.shape[1] > 13 and not name:
                name = _clean(r.iloc[12])
            if cls in {"甲", "乙"} and name:
                for part in re.split(r"[()（）]", name):
                    if part:
                        out.setdefault(part.strip(), cls)
    return out


def drugs() -> pd.DataFrame:
    def lim(r):
        return _clean(r.iloc[3])

    parts = [
        _drug_batch("*药品规则库(限定性别对象).xlsx", "gender", lim),
        _drug_batch("*药品规则库(限定年龄对象).xlsx", "age", lim),
        _drug_batch("*药品规则库（限定保险类型）.xlsx", "insutype", lim),
        _drug_batch("*药品规则库（限定就医方式）.xlsx", "med_type", lim),
        _drug_batch(
            "*药品规则库（限定机构等级）.xlsx", "min_tier", lambda r: {"二级": "2", "三级": "3"}.get(lim(r), "")
        ),
        _drug_batch(
            "*药品规则库（限定支付疗程）.xlsx",
            "course_days",
            lambda r: (re.search(r"(\d+)", lim(r)) or re.search(r"(\d+)天", _clean(r.iloc[1]))).group(1),
        ),
    ]
    df = parts[0]
    for p in parts[1:]:
        df = df.merge(p, on=["med_list_codg", "drug_name"], how="outer")
    df = df.fillna("").groupby("med_list_codg", as_index=False).agg(lambda s: max(s, key=len))
    classes = _nrdl_classes()
    names = sorted(classes, key=len, reverse=True)

    def cls(name: str) -> str:
        for n in names:
            if len(n) >= 2 and name.startswith(n):
                return classes[n]
        return "乙"

    df["chrgitm_lv"] = df["drug_name"].map(lambda n: "01" if cls(n) == "甲" else "02")
    df["med_chrgitm_type"] = df["med_list_codg"].str[0].map({"X": "09", "Z": "11"})
    return df.sort_values("med_list_codg")


def items() -> tuple[pd.DataFrame, pd.DataFrame]:
    names: dict[str, str] = dict(EXTRA_ITEMS)
    attrs: dict[str, dict[str, str]] = {}

    def put(code: str, name: str, **kw: str) -> None:
        code = _clean(code)
        if not re.fullmatch(r"\d{15}", code):
            return
        if name and code not in names:
            names[code] = _clean(name)
        attrs.setdefault(code, {}).update({k: v for k, v in kw.items() if v})

    (g,) = _xlsx("*项目规则库(限定性别对象).xlsx").values()
    for _, r in g.iterrows():
        put(r.iloc[2], r.iloc[0], gender=_clean(r.iloc[4]))
    (a,) = _xlsx("*项目规则库(限定年龄对象).xlsx").values()
    for _, r in a.iterrows():
        put(r.iloc[1], r.iloc[0], age=_clean(r.iloc[3]))
    (s,) = _xlsx("*项目规则库（限定主次操作）.xlsx").values()
    for _, r in s.iterrows():
        put(r.iloc[2], r.iloc[0], surgery_group=_clean(r.iloc[4]))
    (f,) = _xlsx("*项目规则库（限定频次）.xlsx").values()
    for _, r in f.iterrows():
        put(r.iloc[4], r.iloc[1], freq_limit=_clean(r.iloc[2]), freq_unit=_clean(r.iloc[3]))
    (c,) = _xlsx("*项目规则库（限定疗程）.xlsx").values()
    for _, r in c.iterrows():
        days = re.search(r"(\d+)天", _clean(r.iloc[2]))
        note = _clean(r.iloc[2])
        put(r.iloc[3], r.iloc[1], course_days=days.group(1) if days else ("365" if "一年" in note else ""))
    (y,) = _xlsx("*项目规则库（限定周期）.xlsx").values()
    for _, r in y.iterrows():
        put(r.iloc[5], r.iloc[1], cycle_limit=_clean(r.iloc[2]), cycle_days=_clean(r.iloc[3]))
    (d,) = _xlsx("*项目规则库（重复收费）.xlsx").values()
    pairs = []
    for _, r in d.iterrows():
        main, sub = _clean(r.iloc[3]), _clean(r.iloc[5])
        if re.fullmatch(r"\d{15}", main) and re.fullmatch(r"\d{15}", sub):
            put(main, r.iloc[2])
            put(sub, r.iloc[4])
            pairs.append({"main_codg": main, "sub_codg": sub, "window": _clean(r.iloc[1])})
    cols = ["gender", "age", "surgery_group", "freq_limit", "freq_unit", "course_days", "cycle_limit", "cycle_days"]
    rows = [
        {"med_list_codg": k, "item_name": v, **{c: attrs.get(k, {}).get(c, "") for c in cols}} for k, v in names.items()
    ]
    return pd.DataFrame(rows).sort_values("med_list_codg"), pd.DataFrame(pairs).drop_duplicates()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    drugs().to_csv(OUT / "drugs.csv", index=False)
    it, pairs = items()
    it.to_csv(OUT / "items.csv", index=False)
    pairs.to_csv(OUT / "item_pairs.csv", index=False)
    for p in sorted(OUT.glob("*.csv")):
        print(p.relative_to(ROOT), sum(1 for _ in p.open(encoding="utf-8")) - 1, "rows")


if __name__ == "__main__":
    main()
