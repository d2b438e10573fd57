"""`fundguard load DIR`: validated loading of a folder of national tables into the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundguard.cli import common
from fundguard.data.load import LoadResult, LoadValidationFailed, load_dir
from fundguard.data.load.report import check_report_path, write_report
from fundguard.data.load.result import DEFAULT_MAX_PER_CHECK

SHOWN = 20  # problems printed on the terminal; the report file has all of them
EXIT_REJECTED = 1

out = Console(highlight=False)


def _print_result(r: LoadResult) -> None:
    t = Table(
        title=f"加载完成 / loaded：批次 {r.run_id}，用时 {r.seconds:.1f}s",
        caption="读入 rows read · 新增 new keys · 覆盖 replaced keys · 额外列 extra columns kept",
    )
    for h in ("表", "文件", "读入", "新增", "覆盖", "额外列"):
        t.add_column(h)
    for name, file in r.files.items():
        t.add_row(
            name,
            file,
            str(r.row_counts.get(name, 0)),
            str(r.inserted.get(name, 0)),
            str(r.replaced.get(name, 0)),
            ", ".join(r.extra_columns.get(name, [])),
        )
    out.print(t)
    out.print(f"仓库 / warehouse: {r.warehouse}", markup=False, soft_wrap=True)


def _print_notes(warnings: list[str], infos: list[str]) -> None:
    for line in warnings:
        common.console.print(f"警告 / warning: {line}", markup=False, soft_wrap=True)
    for line in infos:
        common.console.print(f"提示 / info: {line}", markup=False, soft_wrap=True)


def _print_failure(e: LoadValidationFailed, report: Path | None) -> None:
    c = common.console
    c.print(f"错误：{e.zh}", markup=False, soft_wrap=True)
    c.print(f"Error: {e.en}", markup=False, soft_wrap=True)
    for check, n in e.counts.items():
        c.print(f"  {check}: {n}", markup=False, soft_wrap=True)
    for p in e.problems[:SHOWN]:
        c.print(f"  - {p.zh()}", markup=False, soft_wrap=True)
        c.print(f"    {p.en()}", markup=False, soft_wrap=True)
    rest = e.total - min(SHOWN, len(e.problems))
    if rest > 0:
        where = f"，完整列表见 {report}" if report else "，用 --report 文件 保存完整列表"
        where_en = f"; full list in {report}" if report else "; use --report FILE for the full list"
        c.print(f"  … 另有 {rest} 处问题{where} / {rest} more problems{where_en}", markup=False, soft_wrap=True)


def load(
    folder: Annotated[Path, typer.Argument(help="数据目录（按国家表名命名的 CSV/Parquet/xlsx 文件）/ data folder")],
    warehouse: common.WarehouseOpt = None,
    json_out: common.JsonOpt = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="完整问题报告写入此文件（.csv 或 .json）/ write the full report (.csv or .json)"),
    ] = None,
    max_per_check: Annotated[
        int, typer.Option("--max-per-check", min=1, help="每项检查最多列出的问题数 / problems listed per check")
    ] = DEFAULT_MAX_PER_CHECK,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度 / no progress bar")] = False,
) -> None:
    """加载并校验一个目录的医保结算数据到数据仓库 / validate and load a folder of claims data into the warehouse."""
    if report:
        check_report_path(report)
    with common.progress(quiet=quiet or json_out) as bar:
        task = bar.add_task("加载 / loading", total=None)

        def on_progress(desc: str, done: int, total: int) -> None:
            bar.update(task, description=desc or "加载 / loading", completed=done, total=total)

        try:
            result = load_dir(folder, warehouse, max_per_check=max_per_check, on_progress=on_progress)
        except LoadValidationFailed as e:
            failure = e
        else:
            failure = None
    if failure is not None:
        _print_notes(failure.warnings, failure.infos)
        if report:
            write_report(report, failure)
        if json_out:
            common.print_json(failure.as_dict())
        else:
            _print_failure(failure, report)
        raise typer.Exit(EXIT_REJECTED)
    if report:
        write_report(report, result)
    _print_notes(result.warnings, result.infos)
    if json_out:
        common.print_json({"ok": True, **result.as_dict()})
    else:
        _print_result(result)


def register(app: typer.Typer) -> None:
    app.command("load", help="加载并校验医保结算数据 / validate and load claims data into the warehouse")(load)
