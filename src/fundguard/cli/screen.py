"""`fundguard screen`: run the rule library over the warehouse and write findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import JsonOpt, WarehouseOpt, console, print_json, progress


def _codes(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def _date(value: str | None, opt: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        from fundguard.errors import FundguardError

        raise FundguardError(f"{opt} 日期格式应为 YYYY-MM-DD：{value}", f"{opt} must be YYYY-MM-DD: {value}") from None


def register(app: typer.Typer) -> None:
    @app.command("screen", help="规则筛查：运行规则库并写入疑点 / screen the warehouse with the rule library")
    def screen_cmd(
        warehouse: WarehouseOpt = None,
        rules: Annotated[
            str | None, typer.Option("--rules", help="规则编码，逗号分隔（默认全部）/ rule codes, comma separated")
        ] = None,
        date_from: Annotated[str | None, typer.Option("--from", help="筛查期起 YYYY-MM-DD / period start")] = None,
        date_to: Annotated[str | None, typer.Option("--to", help="筛查期止 YYYY-MM-DD / period end")] = None,
        fixmedins: Annotated[
            str | None, typer.Option("--fixmedins", help="定点机构编码，逗号分隔 / institution codes")
        ] = None,
        admdvs: Annotated[
            str | None, typer.Option("--admdvs", help="医保区划（参数地区与结果范围）/ region code")
        ] = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="参数取值日期（默认筛查期止）/ parameter date")
        ] = None,
        engine: Annotated[str, typer.Option("--engine", help="duckdb | spark")] = "duckdb",
        parquet: Annotated[
            Path | None,
            typer.Option("--parquet", help="Spark 直接读取的 Parquet 目录（<表名>.parquet）/ Parquet folder for Spark"),
        ] = None,
        full: Annotated[bool, typer.Option("--full", help="全量重筛（不做增量）/ re-screen everything")] = False,
        export: Annotated[
            Path | None, typer.Option("--export", help="导出疑点到 .csv/.parquet/.xlsx / export findings")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        from fundguard.engine.export import export_findings
        from fundguard.engine.library import load_library
        from fundguard.engine.screen import ScreenOptions, findings_filter, screen
        from fundguard.errors import FundguardError
        from fundguard.warehouse import session

        if engine not in ("duckdb", "spark"):
            raise FundguardError(f"未知引擎 {engine}（duckdb 或 spark）", f"unknown engine {engine} (duckdb or spark)")
        opts = ScreenOptions(
            rules=_codes(rules),
            date_from=_date(date_from, "--from"),
            date_to=_date(date_to, "--to"),
            fixmedins=_codes(fixmedins),
            admdvs=admdvs,
            as_of=_date(as_of, "--as-of"),
            engine=engine,
            full=full,
            parquet_dir=parquet,
        )
        if parquet is not None and engine != "spark":
            raise FundguardError("--parquet 仅用于 --engine spark", "--parquet needs --engine spark")
        library = load_library()
        with progress(quiet=as_json) as bar:
            task = bar.add_task("规则筛查 / screening", total=len(library.select(opts.rules)))

            def on_rule(rule, stat) -> None:
                bar.update(task, advance=1, description=f"{rule.code} {rule.name}：{stat.findings} 条")

            result = screen(warehouse, opts, library=library, on_rule=on_rule)
        exported = None
        if export is not None:
            where = findings_filter(opts)
            codes = [s.code for s in result.stats]
            where += " AND rule_code IN (" + ", ".join(f"'{c}'" for c in codes) + ")"
            with session(warehouse) as con:
                exported = export_findings(con, where, export)
        if as_json:
            out = result.as_dict()
            out["exported"] = exported
            print_json(out)
            return
        from rich.table import Table

        table = Table(title=f"筛查批次 {result.run_id}（规则库 {result.library_version}）")
        for col in ("规则编码", "规则名称", "方式", "疑点数", "金额（元）", "耗时（秒）"):
            table.add_column(col)
        for s in result.stats:
            mode = "增量" if s.mode == "incremental" else "全量"
            table.add_row(s.code, s.name, mode, str(s.findings), f"{s.amount:,.2f}", f"{s.seconds:.2f}")
        console.print(table)
        console.print(
            f"合计 {result.n_findings} 条疑点，金额 {result.total_amount:,.2f} 元；筛查期 {result.period[0]} 至 "
            f"{result.period[1]}；参数日期 {result.as_of}；用时 {result.seconds:.1f} 秒"
        )
        if exported is not None:
            console.print(f"已导出 {exported} 条到 {export}")
