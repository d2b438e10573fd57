"""`fundguard bench`: measure the rule library on generated data (DuckDB, Spark, pandas baseline)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import JsonOpt, console, print_json


def register(app: typer.Typer) -> None:
    @app.command("bench", help="性能测试：全规则库筛查 N 行费用明细 / benchmark the rule library")
    def bench_cmd(
        fee_lines: Annotated[int, typer.Option("--fee-lines", help="费用明细行数 / fee lines to generate")] = 1_000_000,
        engine: Annotated[str, typer.Option("--engine", help="duckdb | spark | both")] = "duckdb",
        source: Annotated[str, typer.Option("--source", help="数据来源 auto | synth | plain")] = "auto",
        no_pandas: Annotated[
            bool, typer.Option("--no-pandas", help="不运行 pandas 对照 / skip the pandas baseline")
        ] = False,
        data: Annotated[
            Path | None, typer.Option("--data", help="使用已生成的 synth 目录 / use an existing synth folder")
        ] = None,
        workdir: Annotated[Path | None, typer.Option("--workdir", help="临时目录 / scratch directory")] = None,
        results_dir: Annotated[Path, typer.Option("--results", help="结果目录 / results folder")] = Path(
            "bench-results"
        ),
        as_json: JsonOpt = False,
    ) -> None:
        from fundguard.engine.bench import bench, write_result
        from fundguard.errors import FundguardError

        if engine not in ("duckdb", "spark", "both"):
            raise FundguardError(f"未知引擎 {engine}", f"unknown engine {engine}")
        if source not in ("auto", "synth", "plain"):
            raise FundguardError(f"未知数据来源 {source}", f"unknown source {source}")
        console.print(f"生成 {fee_lines:,} 行费用明细并筛查……")

        def on_rule(engine_name: str, done: int, total: int, rule, stat) -> None:
            # one plain line per rule on stderr (JSON stays alone on stdout): a 20M Spark run takes hours
            console.print(
                f"[{engine_name} {done}/{total}] {rule.code} {rule.name}：{stat.seconds} 秒，疑点 {stat.findings:,} 条",
                highlight=False,
            )

        result = bench(fee_lines, engine, source, workdir, with_pandas=not no_pandas, data=data, on_rule=on_rule)
        path = write_result(result, results_dir)
        if as_json:
            print_json(result)
            return
        console.print(f"数据：{result['fee_lines']:,} 行（{result['data_source']}），规则 {result['rules']} 类")
        if "duckdb" in result:
            d = result["duckdb"]
            console.print(
                f"DuckDB：{d['wall_seconds']} 秒，{d['lines_per_second']:,} 行/秒，峰值内存 {d['peak_rss_mb']} MB，"
                f"疑点 {d['findings']:,} 条；进程 CPU {d['cpu_seconds']} 秒"
                + (
                    f"，期间宿主机挪用 CPU（steal）{d['steal_seconds']} 秒"
                    if d.get("steal_seconds") is not None
                    else ""
                )
            )
        if "pandas" in result:
            p = result["pandas"]
            console.print(
                f"pandas 对照（3 条规则）：读数 {p['load_seconds']} 秒 + 计算 {p['seconds']} 秒 vs DuckDB "
                f"{p['duckdb_seconds']} 秒，快 {p['speedup']} 倍（仅计算 {p['speedup_compute_only']} 倍）；"
                f"结果一致：{'是' if p['counts_match'] else '否'}"
            )
        if "spark" in result:
            s = result["spark"]
            console.print(f"Spark：{s['wall_seconds']} 秒，疑点 {s['findings']:,} 条")
        if "engines_agree" in result:
            console.print(f"两引擎结果一致：{'是' if result['engines_agree'] else '否'}")
        console.print(f"结果已写入 {path}")
