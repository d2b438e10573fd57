"""Reading workbook sheets: find the header row, name columns by keyword, number data rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import openpyxl


def clean(v: object) -> str | None:
    """Cell → stripped text with line breaks and layout spaces removed (None when empty)."""
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).replace("\r", "").replace("\n", "").replace("\u3000", " ").strip()
    s = re.sub(r"(?<=[\u3000-\u303f\uff00-\uffef、，。；：])\s+", "", s)
    s = re.sub(r"\s+(?=[\u3000-\u303f\uff00-\uffef、，。；：])", "", s)
    return s or None


def code(v: object) -> str | None:
    """A code cell: text as written, no spaces (numbers stored as numbers keep their digits)."""
    s = clean(v)
    return s.replace(" ", "") if s else None


@dataclass
class Sheet:
    file: str  # the file's name as shown to users
    title: str  # sheet name plus any title rows above the header
    header: list[str]
    rows: list[tuple[int, tuple]]  # (data row number, 1-based after the header; cells)
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.file}[{self.name}]"

    def col(self, *keywords: str, exact: bool = False) -> int | None:
        for kw in keywords:
            for i, h in enumerate(self.header):
                if h and ((h == kw) if exact else (kw in h)):
                    return i
        return None


# Words that appear in the header of every knowledge layout; a title row ("某省…规则库", "2025年") has none.
_HEADER_WORDS = re.compile(r"名称|通用名|编码|代码|编号|限定|频度|频次|数量|备注|说明|kp_type")


def _header_index(rows: list[tuple], max_scan: int = 10) -> int | None:
    candidates = []
    for i, r in enumerate(rows[:max_scan]):
        texts = [t for t in (clean(c) for c in r) if t]
        if len(texts) >= 2 and all(not re.fullmatch(r"[\d.]+", t) for t in texts):
            if sum(bool(_HEADER_WORDS.search(t)) for t in texts) >= 2:
                return i
            candidates.append(i)
    return candidates[0] if candidates else None


def read_workbook(path: Path) -> list[Sheet]:
    """Every non-empty sheet of an .xlsx with its header located (rows above it become the title)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out: list[Sheet] = []
    try:
        for ws in wb.worksheets:
            rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            hi = _header_index(rows)
            if hi is None:
                continue
            title_bits = [ws.title] + [t for r in rows[:hi] for t in (clean(c) for c in r) if t]
            header = [clean(c) or "" for c in rows[hi]]
            data = [(i - hi, r) for i, r in enumerate(rows) if i > hi]
            out.append(Sheet(path.name, " ".join(title_bits), header, data, name=ws.title))
    finally:
        wb.close()
    return out


def is_blank(cells: tuple) -> bool:
    return all(clean(c) is None for c in cells)


def is_footer(cells: tuple) -> bool:
    """A 合计 / 备注 / 注 line under the table (first cell only, rest empty)."""
    texts = [clean(c) for c in cells]
    first = texts[0] if texts else None
    return (
        bool(first) and bool(re.match(r"^(合计|小计|总计|备注|注[:：])", first)) and all(t is None for t in texts[1:])
    )


def batch_date(text: str):
    """A date written in a title ('2024年5月1日起执行') → date, else None."""
    import datetime as dt

    m = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
