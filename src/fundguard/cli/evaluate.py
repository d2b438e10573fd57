"""`fundguard evaluate`: recall and precision of the rule library on a labelled synthetic region."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import JsonOpt, WarehouseOpt, console, print_json


def register(app: typer.Typer) -> None:
    @app.command("evaluate", help="用标注的模拟地区评估规则库（召回率/精确率）/ score rules on a labelled region")
    def evaluate_cmd(
        folder: Annotated[Path, typer.Argument(help="fundguard synth 生成的目录 / folder written by fundguard synth")],
        warehouse: WarehouseOpt = None,
        engine: Annotated[str, typer.Option("--engine", help="duckdb | spark")] = "duckdb",
        strict: Annotated[
            bool,
            typer.Option("--strict", help="确定类场景未达标时返回非零 / exit 1 when a deterministic target is missed"),
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        from fundguard.engine.evaluate import PRECISION_TARGET, RECALL_TARGET, evaluate

        result, scores = evaluate(folder, warehouse, engine=engine)
        failed = [s.id for s in scores if s.passed is False]
        if as_json:
            print_json({"screen": result.as_dict(), "scenarios": [s.as_dict() for s in scores], "failed": failed})
            if strict and failed:
                raise typer.Exit(1)
            return
        from rich.table import Table

        table = Table(title=f"规则评估（召回率目标 ≥ {RECALL_TARGET:.0%}，精确率目标 ≥ {PRECISION_TARGET:.0%}）")
        for col in ("场景", "名称", "规则", "类型", "标注", "命中", "漏检", "误报", "召回率", "精确率", "结论"):
            table.add_column(col, overflow="fold")
        for s in scores:
            verdict = "统计类（仅报告）" if s.passed is None else ("达标" if s.passed else "未达标")
            table.add_row(
                s.id,
                s.zh,
                ",".join(s.rule_codes),
                "确定" if s.deterministic else "统计",
                str(s.labelled),
                str(s.hits),
                str(len(s.misses)),
                str(s.unexpected),
                "—" if s.recall is None else f"{s.recall:.1%}",
                "—" if s.precision is None else f"{s.precision:.1%}",
                verdict,
            )
        type(console)(width=max(console.width, 180)).print(table)
        for s in scores:
            if s.missing_rules:
                console.print(f"[yellow]{s.id}：规则库缺少规则 {', '.join(s.missing_rules)}[/yellow]")
            if s.misses:
                console.print(f"{s.id} 漏检（{len(s.misses)}）：{', '.join(s.misses)}", markup=False)
            for u in s.unexpected_hits:
                console.print(f"{s.id} 误报：{u['rule_code']} {u['key']} {u['message']}", markup=False)
        console.print(f"筛查 {result.n_findings} 条疑点，用时 {result.seconds:.1f} 秒；规则库 {result.library_version}")
        if failed:
            console.print(f"未达标的确定类场景：{', '.join(failed)}")
            if strict:
                raise typer.Exit(1)
