"""NHSA 两库 knowledge-point batches (.xlsx): layouts recognised by sheet titles and headers.

A batch file may be named anything, hold more rows than the published samples, and later batches reuse
the same layouts; so each sheet is classified by its header keywords (and its title where two layouts
share a header), and each value is parsed by the general parsers in `values`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from fundguard.errors import Problem
from fundguard.kb import values
from fundguard.kb.sheets import Sheet, batch_date, clean, code, is_blank, is_footer

SOURCE = "国家医保局两库知识点"

_CODE_COLS = ("国标代码", "药品代码", "项目编码", "项目代码", "医保代码", "编码", "代码")
_VALUE_COLS = ("限定对象", "限定性别", "限定年龄", "限定值域", "限定内容")

# 限定类型 / title keyword → kp_type suffix; order matters (first hit wins).
_KIND_WORDS = [
    ("性别", "gender"),
    ("年龄", "age"),
    ("主次", "surgery_group"),
    ("保险", "insutype"),
    ("就医", "med_type"),
    ("机构等级", "hosp_lv"),
    ("医院等级", "hosp_lv"),
    ("等级", "hosp_lv"),
    ("疗程", "course"),
    ("周期", "cycle"),
    ("频次", "frequency"),
]


_BARE_DAYS = re.compile(r"\s*(\d+|[一二两三四五六七八九十]+)\s*(天|日|周|个月|月|年)\s*")


def item_code(v: object) -> str | None:
    """A service-item code; one Excel stored as a number lost its leading zeros, so pad it to the 15 digits of
    the national item code."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and 0 < v < 10**15:
        return f"{int(v):015d}"
    return code(v)


def kind_of(text: str | None) -> str | None:
    if not text:
        return None
    for word, kind in _KIND_WORDS:
        if word in text:
            return kind
    return None


def classify(sheet: Sheet) -> str | None:
    """Which 两库 sheet layout this is, from its header (and title for note-based item sheets)."""
    has = sheet.col
    code_col = has(*_CODE_COLS)
    if has("主项编码") is not None and has("从项编码") is not None:
        return "pair"
    if has("频次上限") is not None and has("周期") is not None and code_col is not None:
        return "cycle"
    if has("限制数量", "限定数量", "数量上限") is not None and code_col is not None:
        return "frequency"
    drug_name = has("通用名")
    if drug_name is not None:
        if has(*_VALUE_COLS) is not None or (has("限定类型") is not None and code_col is None):
            return "drug_restriction"
        if code_col is not None:
            return "drug_codes"
    if has("项目名称") is not None and code_col is not None:
        if has(*_VALUE_COLS) is not None:
            return "item_restriction"
        if has("备注", "说明") is not None and kind_of(sheet.title) is not None:
            return "item_note"
    return None


def _batch(file: str, sheet: Sheet) -> str:
    m = re.search(r"【\s*([^】]+?)\s*】", file)
    if m:
        return m.group(1)
    k = re.search(r"第[一二三四五六七八九十\d]+批(?:-\d+)?", sheet.title)
    return k.group(0) if k else re.sub(r"\s+", " ", sheet.title)[:60]


class _Ctx:
    def __init__(self, file: str, effective):
        self.file = file
        self.effective = effective
        self.problems: list[Problem] = []

    def problem(self, sheet: Sheet, row: int | None, field: str | None, zh: str, en: str, value=None) -> None:
        self.problems.append(Problem(file=sheet.label, row=row, field=field, reason_zh=zh, reason_en=en, value=value))

    def base(self, sheet: Sheet, row: int) -> dict:
        return {
            "source": f"{SOURCE}·{sheet.name}",
            "source_file": self.file,
            "source_row": row,
            "batch": _batch(self.file, sheet),
            "begndate": batch_date(sheet.title) or self.effective,
        }


def _need(ctx: _Ctx, sheet: Sheet, **cols: int | None) -> bool:
    missing = [name for name, idx in cols.items() if idx is None]
    for name in missing:
        ctx.problem(sheet, None, name, "缺少必需的列", "required column missing")
    return not missing


def _rows(sheet: Sheet):
    for n, cells in sheet.rows:
        if is_blank(cells) or is_footer(cells):
            continue
        yield n, cells


def _cell(cells: tuple, i: int | None):
    return cells[i] if i is not None and i < len(cells) else None


def _restriction(kind: str, prefix: str, value: str) -> dict:
    """A 限定对象 / 限定值域 word → point fields for the given kind (raises values.Unparseable)."""
    if kind == "gender":
        return {"kp_type": f"{prefix}_gender", "limit_value": values.gender(value)}
    if kind == "age":
        word, hi = values.age(value)
        return {"kp_type": f"{prefix}_age", "limit_value": word, "limit_num": round(hi, 3), "limit_unit": "岁"}
    if kind == "insutype":
        return {"kp_type": f"{prefix}_insutype", "limit_value": values.insutype(value)}
    if kind == "med_type":
        return {"kp_type": f"{prefix}_med_type", "limit_value": values.med_type(value)}
    if kind == "hosp_lv":
        word, tier = values.hosp_level(value)
        return {"kp_type": f"{prefix}_hosp_lv", "limit_value": word, "limit_num": float(tier), "limit_unit": "级"}
    if kind == "course":
        if prefix == "item":
            # a 限定值域 "30天" or a note "支付不超过30天，评定间隔…"
            total, interval = (values.days(value), None) if _BARE_DAYS.fullmatch(value) else values.course_note(value)
            return {"kp_type": "item_course", "limit_num": float(total), "limit_unit": "天", "window_days": interval}
        return {"kp_type": "drug_course", "limit_num": float(values.days(value)), "limit_unit": "天"}
    if kind == "surgery_group" and prefix == "item":
        return {"kp_type": "surgery_group", "group_name": value}
    raise values.Unparseable(f"不支持的限定类型：{kind}", f"unsupported restriction kind: {kind}")


def _row_kind(ctx: _Ctx, sheet: Sheet, n: int, cells: tuple, type_col: int | None) -> str | None:
    text = clean(_cell(cells, type_col)) if type_col is not None else None
    kind = kind_of(text) or kind_of(sheet.title)
    if kind is None:
        ctx.problem(sheet, n, "限定类型", "无法识别的限定类型", "unknown restriction type", text)
    return kind


def _drug_restrictions(ctx: _Ctx, sheet: Sheet) -> dict[str, list[dict]]:
    name_c = sheet.col("通用名")
    desc_c = sheet.col("说明")
    type_c = sheet.col("限定类型")
    value_c = sheet.col(*_VALUE_COLS)
    code_c = sheet.col(*_CODE_COLS)
    by_name: dict[str, list[dict]] = defaultdict(list)
    if not _need(ctx, sheet, 药品通用名=name_c, 限定对象=value_c):
        return by_name
    for n, cells in _rows(sheet):
        name = clean(_cell(cells, name_c))
        value = clean(_cell(cells, value_c))
        if not name:
            ctx.problem(sheet, n, sheet.header[name_c], "药品通用名为空", "empty generic name")
            continue
        if not value:
            ctx.problem(sheet, n, sheet.header[value_c], "限定值为空", "empty restriction value")
            continue
        kind = _row_kind(ctx, sheet, n, cells, type_c)
        if kind is None:
            continue
        try:
            point = _restriction(kind, "drug", value)
        except values.Unparseable as e:
            ctx.problem(sheet, n, sheet.header[value_c], e.zh, e.en, value)
            continue
        point.update(item_name=name, description=clean(_cell(cells, desc_c)), **ctx.base(sheet, n))
        # a one-sheet batch that carries the 国标代码 on the restriction row itself
        codg = code(_cell(cells, code_c))
        if codg:
            point["med_list_codg"] = codg
        by_name[name].append(point)
    return by_name


def _drug_points(ctx: _Ctx, restrict: list[Sheet], codes: list[Sheet]) -> list[dict]:
    by_name: dict[str, list[dict]] = defaultdict(list)
    for s in restrict:
        for k, v in _drug_restrictions(ctx, s).items():
            by_name[k].extend(v)
    out: list[dict] = []
    coded: set[str] = set()
    for s in codes:
        name_c, code_c = s.col("通用名"), s.col(*_CODE_COLS)
        if not _need(ctx, s, 药品通用名=name_c, 国标代码=code_c):
            continue
        for n, cells in _rows(s):
            name, codg = clean(_cell(cells, name_c)), code(_cell(cells, code_c))
            if not codg:
                ctx.problem(s, n, s.header[code_c], "国标代码为空", "empty national code", name)
                continue
            if not name or name not in by_name:
                ctx.problem(
                    s,
                    n,
                    s.header[name_c],
                    "该通用名在限定表（Sheet1）中没有对应行",
                    "generic name has no row in the restriction sheet (Sheet1)",
                    name,
                )
                continue
            coded.add(name)
            for p in by_name[name]:
                out.append({**p, "med_list_codg": codg, "source": f"{SOURCE}·{s.name}", "source_row": n})
    # Restrictions whose name has no code row stay keyed by name: a site's name→code map can link them.
    for name, points in by_name.items():
        if name not in coded:
            out.extend(points)
    return out


def _item_restriction(ctx: _Ctx, sheet: Sheet, note: bool) -> list[dict]:
    name_c, code_c = sheet.col("项目名称"), sheet.col(*_CODE_COLS)
    value_c = sheet.col("备注", "说明") if note else sheet.col(*_VALUE_COLS)
    desc_c = None if note else sheet.col("说明")
    type_c = sheet.col("限定类型")
    out: list[dict] = []
    if not _need(ctx, sheet, 项目编码=code_c, 限定值=value_c):
        return out
    for n, cells in _rows(sheet):
        codg, value = item_code(_cell(cells, code_c)), clean(_cell(cells, value_c))
        if not codg:
            ctx.problem(sheet, n, sheet.header[code_c], "项目编码为空", "empty item code", clean(_cell(cells, name_c)))
            continue
        if not value:
            ctx.problem(sheet, n, sheet.header[value_c], "限定值为空", "empty restriction value")
            continue
        kind = kind_of(sheet.title) if note else _row_kind(ctx, sheet, n, cells, type_c)
        if kind is None:
            continue
        try:
            point = _restriction(kind, "item", value)
        except values.Unparseable as e:
            ctx.problem(sheet, n, sheet.header[value_c], e.zh, e.en, value)
            continue
        desc = value if note else clean(_cell(cells, desc_c))
        point.update(med_list_codg=codg, item_name=clean(_cell(cells, name_c)), description=desc, **ctx.base(sheet, n))
        out.append(point)
    return out


def _pairs(ctx: _Ctx, sheet: Sheet) -> list[dict]:
    a_c, b_c = sheet.col("主项编码"), sheet.col("从项编码")
    an_c, bn_c = sheet.col("主项名称"), sheet.col("从项名称")
    win_c, note_c = sheet.col("频度", "时间", "周期"), sheet.col("备注", "说明")
    kp_type = (
        "item_split_pair"
        if "分解" in sheet.title
        else ("item_consumable_dup_pair" if "耗材" in sheet.title else "item_dup_pair")
    )
    out: list[dict] = []
    if not _need(ctx, sheet, 频度=win_c):
        return out
    for n, cells in _rows(sheet):
        a, b = item_code(_cell(cells, a_c)), item_code(_cell(cells, b_c))
        for codg, col in ((a, a_c), (b, b_c)):
            if not codg:
                ctx.problem(sheet, n, sheet.header[col], "编码为空", "empty code")
        if not (a and b):
            continue
        w = clean(_cell(cells, win_c))
        if not w:
            ctx.problem(sheet, n, sheet.header[win_c], "频度为空", "empty window")
            continue
        try:
            win = values.window(w)
        except values.Unparseable as e:
            ctx.problem(sheet, n, sheet.header[win_c], e.zh, e.en, w)
            continue
        out.append(
            {
                "kp_type": kp_type,
                "med_list_codg": a,
                "item_name": clean(_cell(cells, an_c)),
                "related_codg": b,
                "related_name": clean(_cell(cells, bn_c)),
                "description": clean(_cell(cells, note_c)),
                **win,
                **ctx.base(sheet, n),
            }
        )
    return out


def _frequency(ctx: _Ctx, sheet: Sheet) -> list[dict]:
    name_c, code_c = sheet.col("项目名称"), sheet.col(*_CODE_COLS)
    num_c, unit_c = sheet.col("限制数量", "限定数量", "数量上限"), sheet.col("单位")
    out: list[dict] = []
    if not _need(ctx, sheet, 数量单位=unit_c):
        return out
    for n, cells in _rows(sheet):
        codg = item_code(_cell(cells, code_c))
        if not codg:
            ctx.problem(sheet, n, sheet.header[code_c], "项目编码为空", "empty item code", clean(_cell(cells, name_c)))
            continue
        raw, unit = clean(_cell(cells, num_c)), clean(_cell(cells, unit_c))
        unit = "日" if unit == "天" else unit
        try:
            num = values.cn_number(raw or "")
            # "24 小时" is an hourly quantity counted per day; "次住院" is per admission
            win = values.window("单日" if unit in ("日", "小时") else (unit or ""))
        except values.Unparseable as e:
            ctx.problem(sheet, n, sheet.header[num_c], e.zh, e.en, f"{raw} {unit}")
            continue
        out.append(
            {
                "kp_type": "item_frequency",
                "med_list_codg": codg,
                "item_name": clean(_cell(cells, name_c)),
                "limit_value": win["limit_value"],
                "limit_num": num,
                "limit_unit": unit,
                # an hourly quantity (24 小时) is counted per day
                "window_days": win["window_days"] or (1 if win["limit_unit"] == "小时" else None),
                **ctx.base(sheet, n),
            }
        )
    return out


def _cycle(ctx: _Ctx, sheet: Sheet) -> list[dict]:
    name_c, code_c = sheet.col("项目名称"), sheet.col(*_CODE_COLS)
    num_c, win_c, note_c = sheet.col("频次上限"), sheet.col("周期"), sheet.col("备注", "说明")
    out: list[dict] = []
    for n, cells in _rows(sheet):
        codg = item_code(_cell(cells, code_c))
        if not codg:
            ctx.problem(sheet, n, sheet.header[code_c], "项目编码为空", "empty item code", clean(_cell(cells, name_c)))
            continue
        raw_n, raw_w = clean(_cell(cells, num_c)), clean(_cell(cells, win_c))
        try:
            num = values.cn_number(raw_n or "")
            w = int(values.cn_number(raw_w)) if raw_w and re.fullmatch(r"[\d.]+", raw_w) else values.days(raw_w or "")
        except values.Unparseable as e:
            ctx.problem(sheet, n, f"{sheet.header[num_c]}/{sheet.header[win_c]}", e.zh, e.en, f"{raw_n} / {raw_w}")
            continue
        out.append(
            {
                "kp_type": "item_cycle",
                "med_list_codg": codg,
                "item_name": clean(_cell(cells, name_c)),
                "limit_num": num,
                "limit_unit": "次",
                "window_days": w,
                "description": clean(_cell(cells, note_c)),
                **ctx.base(sheet, n),
            }
        )
    return out


_HANDLERS: dict[str, Callable[[_Ctx, Sheet], list[dict]]] = {
    "pair": _pairs,
    "frequency": _frequency,
    "cycle": _cycle,
    "item_restriction": lambda c, s: _item_restriction(c, s, note=False),
    "item_note": lambda c, s: _item_restriction(c, s, note=True),
}


def detect(sheets: list[Sheet]) -> dict[str, str]:
    """Sheet name → layout for the sheets this module understands."""
    return {s.name: k for s in sheets if (k := classify(s))}


def read(file: str, sheets: list[Sheet], effective) -> tuple[list[dict], list[Problem]]:
    ctx = _Ctx(file, effective)
    kinds = {s.name: classify(s) for s in sheets}
    points: list[dict] = []
    restrict = [s for s in sheets if kinds[s.name] == "drug_restriction"]
    codes = [s for s in sheets if kinds[s.name] == "drug_codes"]
    if codes and not restrict:
        for s in codes:
            ctx.problem(s, None, None, "有药品代码表但没有限定表（Sheet1）", "code sheet without a restriction sheet")
    elif restrict:
        points.extend(_drug_points(ctx, restrict, codes))
    for s in sheets:
        k = kinds[s.name]
        if k in _HANDLERS:
            points.extend(_HANDLERS[k](ctx, s))
        elif k is None and len([1 for _, c in s.rows if not is_blank(c)]) > 0:
            ctx.problem(
                s,
                None,
                None,
                "无法识别此工作表的版式（表头）",
                "sheet layout (header) not recognised",
                " | ".join(h for h in s.header if h),
            )
    return points, ctx.problems


def name_codes(sheets: list[Sheet]) -> list[tuple[str, str]]:
    """(通用名, 国标代码) pairs from the code sheets of a drug batch — used to link NRDL names to codes."""
    out = []
    for s in sheets:
        if classify(s) != "drug_codes":
            continue
        name_c, code_c = s.col("通用名"), s.col(*_CODE_COLS)
        for _, cells in _rows(s):
            name, codg = clean(_cell(cells, name_c)), code(_cell(cells, code_c))
            if name and codg:
                out.append((name, codg))
    return out
