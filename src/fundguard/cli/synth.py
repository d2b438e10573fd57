"""`fundguard synth`: generate the synthetic region (示范市) with labelled injected violations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli import common
from fundguard.errors import FundguardError


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        out: Annotated[Path, typer.Option("--out", "-o", help="输出目录 / output directory")],
        persons: Annotated[int, typer.Option("--persons", help="参保人数 / number of insured persons")] = 2000,
        seed: Annotated[int, typer.Option("--seed", help="随机种子（同一种子结果完全相同）/ random seed")] = 20240101,
        months: Annotated[int, typer.Option("--months", help="月数（自2024-01起）/ months from 2024-01")] = 12,
        fmt: Annotated[str, typer.Option("--format", help="文件格式 parquet|csv / file format")] = "parquet",
        fee_lines: Annotated[
            int | None,
            typer.Option(
                "--fee-lines", help="费用明细目标行数（近似，按此推算人数）/ approximate fee lines; sets persons"
            ),
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度 / no progress bar")] = False,
        json_: common.JsonOpt = False,
    ) -> None:
        """生成合成统筹区数据（含标注的违规场景）/ generate a synthetic region with labelled violations."""
        from fundguard.data.synth import generate, persons_for_lines

        if fmt not in ("parquet", "csv"):
            raise FundguardError(
                f"不支持的格式 {fmt}，应为 parquet 或 csv", f"unsupported format {fmt}; use parquet or csv"
            )
        if persons < 1000 and not fee_lines:
            raise FundguardError(
                "参保人数至少 1000（需为违规场景预留人员）", "at least 1000 persons are needed (scenarios reserve some)"
            )
        n = persons_for_lines(fee_lines, months) if fee_lines else persons
        with common.progress(quiet=quiet or json_) as p:
            task = p.add_task(f"生成 {n} 人 × {months} 个月 / generating", total=None)

            def on_progress(stage: str, done: int, total: int) -> None:
                p.update(task, completed=done, total=total)

            try:
                summary = generate(out, persons=n, seed=seed, months=months, fmt=fmt, progress=on_progress)
            except ValueError as e:
                raise FundguardError(f"生成失败：{e}", f"generation failed: {e}") from e
        if json_:
            common.print_json(summary)
            return
        rows = summary["rows"]
        common.console.print(
            f"已生成 {summary['out_dir']}：{summary['persons']} 人，费用明细 {rows['fee_list_d']:,} 行，"
            f"结算 {rows['setl_d']:,} 笔，标注 {summary['label_rows']} 条（{len(summary['labels'])} 个场景），"
            f"用时 {summary['seconds']} 秒",
            markup=False,
        )
