"""Parsers for the restriction words and numbers found in official knowledge files.

They are general on purpose: a new batch may say "21天", "两周", "三级甲等" or "新生儿" for codes never seen,
and the importer must understand it without a code change. Each parser raises `Unparseable` with a
bilingual reason when the text means nothing it knows.
"""

from __future__ import annotations

import re


class Unparseable(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def cn_number(text: str) -> float:
    """'14' / '十四' / '两' / '一百二十' / '1.5' → number."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total, section, digit = 0, 0, 0
    units = {"十": 10, "百": 100, "千": 1000}
    if not text or any(ch not in _CN_DIGITS and ch not in units for ch in text):
        raise Unparseable(f"无法识别的数字：{text}", f"not a number: {text}")
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            section += (digit or 1) * units[ch]
            digit = 0
    total += section + digit
    return float(total)


_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
_UNIT_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "个月": 30, "月": 30, "年": 365}


def days(text: str) -> int:
    """'14天' / '两周' / '12个月' / '一年' → days (12 months and 1 year are 365 days)."""
    m = re.search(_NUM + r"\s*(天|日|周|星期|个月|月|年)", text)
    if not m:
        raise Unparseable(f"无法识别的天数：{text}", f"no number of days in: {text}")
    n = cn_number(m.group(1))
    unit = m.group(2)
    if unit in ("个月", "月") and n % 12 == 0:
        return int(n // 12 * 365)
    return int(round(n * _UNIT_DAYS[unit]))


def gender(text: str) -> str:
    t = text.strip()
    has_m = bool(re.search(r"男", t))
    has_f = bool(re.search(r"女|妇", t))
    if has_m == has_f:
        raise Unparseable(f"无法识别的性别：{text}", f"not a gender: {text}")
    return "男" if has_m else "女"


# Age words → (normalised word, upper age in years) — upper bounds follow common 医保 usage and are
# stated in docs/knowledge-base.md; a site that uses another bound imports its own points.
AGE_WORDS: dict[str, tuple[str, float, float]] = {
    "新生儿": ("新生儿", 0.0, 28 / 365),
    "婴幼儿": ("婴幼儿", 0.0, 3.0),
    "婴儿": ("婴幼儿", 0.0, 1.0),
    "小儿": ("儿童", 0.0, 18.0),
    "儿童": ("儿童", 0.0, 18.0),
    "未成年": ("儿童", 0.0, 18.0),
    "青少年": ("青少年", 12.0, 18.0),
    "成人": ("成人", 18.0, 150.0),
    "成年": ("成人", 18.0, 150.0),
    "老年": ("老年", 60.0, 150.0),
}

_AGE_RANGE_PATTERNS = [
    # 2岁至<18岁, 3-12岁, 1岁至14岁, 6～17周岁
    (re.compile(r"(\d+)\s*(?:周?岁)?\s*(?:至|到|-|－|~|～|—)\s*[<＜]?\s*(\d+)\s*周?岁"), "range"),
    # ≥2岁, 18岁及以上, 13岁和13岁以上, 50岁以上
    (re.compile(r"[≥>＞]\s*(\d+)\s*周?岁"), "lo"),
    (re.compile(r"(\d+)\s*周?岁(?:及|和\s*\d+\s*周?岁)?以上"), "lo"),
    # <18岁, 14岁以下, 14岁及以下
    (re.compile(r"[<＜≤]\s*(\d+)\s*周?岁"), "hi"),
    (re.compile(r"(\d+)\s*周?岁(?:及)?以下"), "hi"),
]


def age_ranges(text: str) -> list[tuple[str | None, float, float]]:
    """Every age restriction mentioned in text: (word or None, low, high) in years."""
    found: list[tuple[str | None, float, float]] = []
    rest = text
    for pat, kind in _AGE_RANGE_PATTERNS:
        for m in pat.finditer(rest):
            if kind == "range":
                found.append((None, float(m.group(1)), float(m.group(2))))
            elif kind == "lo":
                found.append((None, float(m.group(1)), 150.0))
            else:
                found.append((None, 0.0, float(m.group(1))))
        rest = pat.sub(" ", rest)
    numeric = bool(found)
    for word, (norm, lo, hi) in AGE_WORDS.items():
        if numeric and norm == "儿童":
            continue  # "6岁及以上儿童": the number already says which children
        if word in rest:
            found.append((norm, lo, hi))
            rest = rest.replace(word, " ")
    return found


def age(text: str) -> tuple[str, float]:
    """An age restriction → (limit_value, upper age): a word (儿童/新生儿/…) or a range 'a-b'."""
    found = age_ranges(text)
    if not found:
        raise Unparseable(f"无法识别的年龄限定：{text}", f"no age restriction in: {text}")
    words = {w for w, _, _ in found if w}
    if len(found) == 1 and words:
        w, _, hi = found[0]
        return w, hi  # type: ignore[return-value]
    lo = min(f[1] for f in found)
    hi = max(f[2] for f in found)
    return f"{_fmt(lo)}-{_fmt(hi)}", hi


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.3f}"


_TIERS = {"一": 1, "二": 2, "三": 3, "1": 1, "2": 2, "3": 3}


def hosp_level(text: str) -> tuple[str, int]:
    """'二级' / '二级及以上医疗机构' / '三级甲等' → ('二级', 2)."""
    m = re.search(r"([一二三123])\s*级", text)
    if not m:
        raise Unparseable(f"无法识别的医疗机构等级：{text}", f"not a hospital level: {text}")
    tier = _TIERS[m.group(1)]
    return f"{'一二三'[tier - 1]}级", tier


def insutype(text: str) -> str:
    m = re.search(r"(工伤|生育)", text)
    if not m:
        raise Unparseable(f"无法识别的保险类型：{text}", f"not an insurance type (工伤/生育): {text}")
    return m.group(1)


def med_type(text: str) -> str:
    has_ip = "住院" in text
    has_op = bool(re.search(r"门诊|门急诊", text))
    if has_ip == has_op:
        raise Unparseable(f"无法识别的就医方式：{text}", f"not a care setting (住院/门诊): {text}")
    return "住院" if has_ip else "门诊"


def window(text: str) -> dict:
    """A 重复收费 / 频次 window word → limit_value plus (limit_num, limit_unit, window_days).

    单日/同日/当日 → 1 day; N日/天/周/月/年 → N days; N小时/同一小时 → hours; 单次就诊/住院/同时 → per visit.
    """
    t = text.strip()
    out: dict = {"limit_value": t, "limit_num": None, "limit_unit": None, "window_days": None}
    if re.search(r"小时", t):
        m = re.search(_NUM + r"\s*小时", t)
        out.update(limit_num=cn_number(m.group(1)) if m else 1.0, limit_unit="小时")
    elif re.search(r"就诊|住院|同时|同次|单次", t):
        out.update(limit_unit="次")
    elif re.fullmatch(r"(单|同|当|每)(日|天)", t):
        out.update(window_days=1, limit_unit="日")
    elif re.search(r"(日|天|周|星期|月|年)", t):
        m = re.search(_NUM + r"\s*(天|日|周|星期|个月|月|年)", t)
        if m:
            out.update(window_days=days(t), limit_unit="日")
        else:
            unit = re.search(r"(日|天|周|星期|月|年)", t).group(1)
            out.update(window_days=_UNIT_DAYS["个月" if unit == "月" else unit], limit_unit="日")
    else:
        raise Unparseable(f"无法识别的频度/时间窗：{text}", f"not a time window: {text}")
    return out


def course_note(text: str) -> tuple[int, int | None]:
    """An item 疗程 note → (max days of payment, minimum interval days or None).

    '支付不超过30天' → (30, None); '总时间不超过90天，评定间隔时间不短于14天' → (90, 14);
    '支付不超过一年，每周最多支付一次' → (365, 7).
    """
    m = re.search(r"(?:不超过|最多|最长)\s*" + _NUM + r"\s*(天|日|周|星期|个月|月|年)", text)
    if not m:
        raise Unparseable(f"无法识别的支付疗程：{text}", f"no course length in: {text}")
    total = days(m.group(1) + m.group(2))
    interval = None
    mi = re.search(r"间隔[^，。；]*?(?:不短于|不少于|≥|>=|大于等于)\s*" + _NUM + r"\s*(天|日|周|个月|月)", text)
    if mi:
        interval = days(mi.group(1) + mi.group(2))
    else:
        mp = re.search(r"每(日|天|周|星期|月)[^，。；]*?(?:最多|不超过)[^，。；]*?(一|1)次", text)
        if mp:
            interval = {"日": 1, "天": 1, "周": 7, "星期": 7, "月": 30}[mp.group(1)]
    return total, interval
