"""NRDL 药品目录 workbook (国家基本医疗保险、工伤保险和生育保险药品目录): class rows then drug rows.

Each sheet (西药部分, 中成药部分, 协议西药, 协议中成药, 竞价药品部分 …) has a header row with 编号 and
药品名称; a row with a class code (XA02BC …) opens a class, a row with 甲/乙 is a drug. Columns are found
by header keyword and the 甲/乙 column by content, since the sheets lay them out differently.
"""

from __future__ import annotations

import datetime as dt
import re

from fundguard.errors import Problem
from fundguard.kb import remarks
from fundguard.kb.sheets import Sheet, clean

SOURCE = "国家医保药品目录"


def is_nrdl(sheet: Sheet) -> bool:
    return sheet.col("编号") is not None and sheet.col("药品名称") is not None and sheet.col("分类代码") is not None


def _grade_col(sheet: Sheet) -> int | None:
    counts: dict[int, int] = {}
    for _, cells in sheet.rows[:400]:
        for i, v in enumerate(cells):
            if clean(v) in ("甲", "乙"):
                counts[i] = counts.get(i, 0) + 1
    return max(counts, key=lambda i: counts[i]) if counts else None


def _validity(text: str | None) -> tuple[dt.date | None, dt.date | None]:
    if not text:
        return None, None
    ds = [dt.date(int(y), int(m), int(d)) for y, m, d in re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)]
    return (ds[0] if ds else None), (ds[1] if len(ds) > 1 else None)


# Name variants: "感冒清热颗粒(片、胶囊)" also names 感冒清热片 and 感冒清热胶囊.
_FORMS = sorted(
    [
        "片",
        "胶囊",
        "软胶囊",
        "颗粒",
        "丸",
        "水丸",
        "蜜丸",
        "滴丸",
        "口服液",
        "合剂",
        "糖浆",
        "散",
        "膏",
        "软膏",
        "乳膏",
        "贴膏",
        "注射液",
        "酊",
        "搽剂",
        "喷雾剂",
        "栓",
        "气雾剂",
        "茶",
        "丹",
        "锭",
        "露",
        "胶",
    ],
    key=len,
    reverse=True,
)


# NRDL 西药 rows give the generic name and a dosage-form class (剂型); a 两库 code sheet names the product
# (generic name + form). These are the product-name endings each 剂型 class allows.
_FORM_ENDINGS: dict[str, tuple[str, ...]] = {
    "口服常释": (
        "片",
        "胶囊",
        "软胶囊",
        "肠溶片",
        "肠溶胶囊",
        "肠溶软胶囊",
        "分散片",
        "咀嚼片",
        "口崩片",
        "口腔崩解片",
        "泡腾片",
        "薄膜衣片",
        "含片",
        "舌下片",
        "滴丸",
    ),
    "缓释控释": ("缓释片", "缓释胶囊", "控释片", "缓释颗粒", "控释胶囊"),
    "注射": ("注射液", "注射剂"),
    "口服液体": ("口服溶液", "口服液", "糖浆", "口服混悬液", "混悬液", "滴剂", "干混悬剂"),
    "颗粒": ("颗粒", "干混悬剂"),
    "吸入": ("吸入粉雾剂", "吸入气雾剂", "吸入溶液", "吸入剂", "气雾剂", "粉雾剂"),
    "外用": ("乳膏", "软膏", "凝胶", "贴剂", "溶液", "搽剂", "洗剂", "喷雾剂"),
    "眼": ("滴眼液", "眼膏", "眼用凝胶"),
    "栓": ("栓",),
}


def name_variants(name: str, form: str | None = None) -> list[str]:
    """Names under which a 两库 code sheet may list this NRDL drug."""
    out = [name]
    for key, endings in _FORM_ENDINGS.items():
        if form and key in form:
            out.extend(name + e for e in endings)
            if key == "注射":
                out.append("注射用" + name)
    m = re.fullmatch(r"(.+?)[(（]([^()（）]+)[)）]", name)
    if m:
        base, alts = m.group(1), [a.strip() for a in re.split(r"[、,，]", m.group(2)) if a.strip()]
        out.append(base)
        stem = next((base[: -len(f)] for f in _FORMS if base.endswith(f)), None)
        if stem and all(a in _FORMS for a in alts):
            out.extend(stem + a for a in alts)
    return list(dict.fromkeys(out))


def read(
    file: str, sheets: list[Sheet], name_codes: dict[str, list[str]], effective
) -> tuple[list[dict], list[Problem]]:
    points: list[dict] = []
    problems: list[Problem] = []
    for s in sheets:
        if not is_nrdl(s):
            continue
        cls_c, num_c, name_c = s.col("分类代码"), s.col("编号"), s.col("药品名称")
        form_c, note_c, price_c, valid_c = s.col("剂型"), s.col("备注"), s.col("支付标准"), s.col("有效期")
        grade_c = _grade_col(s)
        if grade_c is None:
            problems.append(Problem(file=s.label, reason_zh="找不到甲乙类列", reason_en="no 甲/乙 column found"))
            continue
        classes: dict[int, str] = {}
        for n, cells in s.rows:
            texts = [clean(c) for c in cells]
            cls = texts[cls_c] if cls_c is not None else None
            grade = texts[grade_c]
            if cls and re.fullmatch(r"[A-Z]{1,2}[0-9A-Z]*", cls) and grade not in ("甲", "乙"):
                label = next((t for i, t in enumerate(texts) if t and i != cls_c), "")
                classes = {k: v for k, v in classes.items() if k < len(cls)}
                classes[len(cls)] = f"{cls} {label}".strip()
                continue
            if grade not in ("甲", "乙"):
                continue
            name = texts[name_c]
            if not name:
                problems.append(
                    Problem(
                        file=s.label, row=n, field="药品名称", reason_zh="药品名称为空", reason_en="empty drug name"
                    )
                )
                continue
            note = texts[note_c] if note_c is not None else None
            price = texts[price_c] if price_c is not None else None
            form = texts[form_c] if form_c is not None else None
            beg, end = _validity(texts[valid_c] if valid_c is not None else None)
            group = classes[max(classes)] if classes else None
            desc = "；".join(
                x
                for x in (
                    f"编号：{texts[num_c]}" if texts[num_c] else None,
                    f"剂型：{form}" if form else None,
                    f"备注：{note}" if note else None,
                    f"医保支付标准：{price}" if price else None,
                )
                if x
            )
            base = {
                "item_name": name,
                "source": f"{SOURCE}·{s.name}",
                "source_file": file,
                "source_row": n,
                "batch": f"NRDL·{s.name}",
                "begndate": beg or effective,
                "enddate": end,
            }
            found = [{"kp_type": "drug_class", "limit_value": grade, "group_name": group, "description": desc}]
            found += remarks.parse(note or "")
            codes = sorted({c for v in name_variants(name, form) for c in name_codes.get(v, [])})
            for f in found:
                for codg in codes or [None]:
                    points.append({**base, **f, "med_list_codg": codg})
    return points, problems
