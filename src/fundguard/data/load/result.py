"""What a load returns, and how validation problems are collected (first N per check, plus totals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fundguard.errors import Problem, ValidationFailed

# First problems kept per check and file; the totals are always exact.
DEFAULT_MAX_PER_CHECK = 100


@dataclass
class LoadResult:
    """One successful load: what was read, what changed in the warehouse, and what was noticed."""

    run_id: str
    source: str
    warehouse: str
    files: dict[str, str]  # table → file name
    row_counts: dict[str, int]  # table → rows read
    inserted: dict[str, int]  # table → rows whose key was new
    replaced: dict[str, int]  # table → rows whose key was already in the warehouse
    extra_columns: dict[str, list[str]]  # table → columns kept beyond the schema
    input_checksum: str
    seconds: float
    warnings: list[str] = field(default_factory=list)  # bilingual lines ("中文 / English")
    infos: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "warehouse": self.warehouse,
            "files": self.files,
            "row_counts": self.row_counts,
            "inserted": self.inserted,
            "replaced": self.replaced,
            "extra_columns": self.extra_columns,
            "input_checksum": self.input_checksum,
            "seconds": round(self.seconds, 3),
            "warnings": self.warnings,
            "infos": self.infos,
        }


class LoadValidationFailed(ValidationFailed):
    """The input failed validation; the warehouse was not touched.

    `problems` holds the first problems of each check; `total` counts every bad cell/row found and
    `counts` breaks it down by check, so a capped list never hides how much is wrong.
    """

    def __init__(
        self,
        problems: list[Problem],
        counts: dict[str, int],
        warnings: list[str] | None = None,
        infos: list[str] | None = None,
    ):
        total = sum(counts.values())
        super().__init__(
            f"数据校验未通过，共 {total} 处问题，仓库未作任何修改",
            f"validation failed with {total} problems; the warehouse was not changed",
            problems,
        )
        self.total = total
        self.counts = counts
        self.warnings = warnings or []
        self.infos = infos or []

    def as_dict(self) -> dict:
        return {
            "ok": False,
            "message_zh": self.zh,
            "message_en": self.en,
            "total": self.total,
            "counts": self.counts,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": self.warnings,
            "infos": self.infos,
        }


class Collector:
    """Gathers problems from set-based checks: each check reports its total and its first rows."""

    def __init__(self, max_per_check: int = DEFAULT_MAX_PER_CHECK):
        self.max_per_check = max_per_check
        self.problems: list[Problem] = []
        self.counts: dict[str, int] = {}

    def add(self, check: str, total: int, problems: list[Problem]) -> None:
        if total <= 0:
            return
        self.counts[check] = self.counts.get(check, 0) + total
        self.problems.extend(problems[: self.max_per_check])

    def one(self, check: str, problem: Problem) -> None:
        self.add(check, 1, [problem])

    @property
    def failed(self) -> bool:
        return bool(self.counts)

    def error(self, warnings: list[str] | None = None, infos: list[str] | None = None) -> LoadValidationFailed:
        # File by file, row by row: the order in which a user fixes them.
        problems = sorted(self.problems, key=lambda p: (p.file, p.row or 0))
        return LoadValidationFailed(problems, dict(sorted(self.counts.items())), warnings, infos)
