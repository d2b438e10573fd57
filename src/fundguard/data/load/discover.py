"""Which file in a data folder feeds which national table, and which files are not claims data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fundguard.data import schema
from fundguard.errors import Problem

# Suffix → reader. .xlsx only for reference tables: a spreadsheet cannot hold a month of fee lines.
SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".tsv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}

# Tables every data set must provide unless the warehouse already holds them (first load vs monthly load).
REQUIRED_TABLES = ("fixmedins", "psn_info", "mdtrt_d", "setl_d", "fee_list_d")

# Known files that are not claims: the generator's labels and the knowledge-base folder.
NON_CLAIMS_PREFIXES = ("ground_truth",)
NON_CLAIMS_DIRS = ("kb",)


@dataclass
class SourceFile:
    table: schema.Table
    path: Path
    kind: str  # csv | parquet | xlsx

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Discovery:
    files: dict[str, SourceFile] = field(default_factory=dict)  # table name → file
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


def _split(name: str) -> tuple[str, str | None]:
    lower = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return lower[: -len(suffix)], suffix
    return lower, None


def discover(folder: Path) -> Discovery:
    """Map the files of `folder` to tables; unknown files become warnings, never silent skips."""
    d = Discovery()
    if not folder.is_dir():
        d.problems.append(
            Problem(str(folder), "数据目录不存在或不是目录", "data folder does not exist or is not a directory")
        )
        return d
    for path in sorted(folder.iterdir()):
        stem, suffix = _split(path.name)
        if path.is_dir():
            if path.name.lower() in NON_CLAIMS_DIRS:
                d.infos.append(f"跳过知识库目录 {path.name}/（非结算数据）/ skipped knowledge-base folder {path.name}/")
            else:
                d.warnings.append(f"未识别的子目录 {path.name}/，未加载 / unknown folder {path.name}/ not loaded")
            continue
        if path.name.startswith("."):
            d.infos.append(f"跳过隐藏文件 {path.name} / skipped hidden file {path.name}")
            continue
        if stem.startswith(NON_CLAIMS_PREFIXES):
            d.infos.append(f"跳过标注文件 {path.name}（非结算数据）/ skipped label file {path.name} (not claims data)")
            continue
        table = schema.ALL_TABLES.get(stem)
        if table is None or table.kind == "output" or suffix is None:
            d.warnings.append(
                f"未识别的文件 {path.name}，未加载（文件名应为国家表名，如 fee_list_d.csv）"
                f" / unknown file {path.name} not loaded (name files after the national tables, e.g. fee_list_d.csv)"
            )
            continue
        kind = SUFFIXES[suffix]
        if kind == "xlsx" and table.kind != "reference":
            d.problems.append(
                Problem(
                    path.name,
                    f"{table.name}（{table.zh}）是明细表，请用 CSV 或 Parquet，Excel 仅用于小型参考表",
                    f"{table.name} is a detail table: use CSV or Parquet; .xlsx is accepted for small reference tables",
                )
            )
            continue
        if table.name in d.files:
            other = d.files[table.name].name
            d.problems.append(
                Problem(
                    path.name,
                    f"表 {table.name} 有多个文件（{other} 与 {path.name}），请只保留一个",
                    f"table {table.name} has more than one file ({other} and {path.name}); keep one",
                )
            )
            continue
        d.files[table.name] = SourceFile(table, path, kind)
    return d
