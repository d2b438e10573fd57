"""Errors that reach users: every message in Chinese and English, naming where the problem is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One bad input: file, row (1-based data row, header excluded), field and reason."""

    file: str
    reason_zh: str
    reason_en: str
    row: int | None = None
    field: str | None = None
    value: str | None = None

    def zh(self) -> str:
        where = (
            self.file
            + (f" 第{self.row}行" if self.row is not None else "")
            + (f" 字段 {self.field}" if self.field else "")
        )
        val = f"（值：{self.value}）" if self.value is not None else ""
        return f"{where}：{self.reason_zh}{val}"

    def en(self) -> str:
        where = (
            self.file
            + (f" row {self.row}" if self.row is not None else "")
            + (f" field {self.field}" if self.field else "")
        )
        val = f" (value: {self.value})" if self.value is not None else ""
        return f"{where}: {self.reason_en}{val}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "value": self.value,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


class FundguardError(Exception):
    """An error with a bilingual message; the CLI prints both and exits non-zero."""

    def __init__(self, zh: str, en: str, problems: list[Problem] | None = None):
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.problems = problems or []

    def report(self, limit: int = 50) -> str:
        lines = [f"错误：{self.zh}", f"Error: {self.en}"]
        for p in self.problems[:limit]:
            lines.append(f"  - {p.zh()}")
            lines.append(f"    {p.en()}")
        if len(self.problems) > limit:
            more = len(self.problems) - limit
            lines.append(f"  … 另有 {more} 处问题 / {more} more problems")
        return "\n".join(lines)


class ValidationFailed(FundguardError):
    """Input data failed validation; nothing was written."""
