"""`fundguard rules`: list, show and document the rule library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import JsonOpt, WarehouseOpt, console, print_json
from fundguard.config import load_settings

DEFAULT_DOC = Path("docs/rule-catalogue.md")


def _latest(param) -> str:
    """The national value of the latest effective date (region overrides are in `rules show`)."""
    if not param.values:
        return "—"
    return str(param.values[max(param.values)])


def register(app: typer.Typer) -> None:
    rules_app = typer.Typer(help="规则库：列表、详情、目录文档 / the rule library", no_args_is_help=True)
    app.add_typer(rules_app, name="rules")

    @rules_app.command("list", help="列出全部规则类型 / list every rule type")
    def list_cmd(as_json: JsonOpt = False) -> None:
        from fundguard.engine.catalogue import OBJECT_ZH, sorted_rules
        from fundguard.engine.library import load_library

        library = load_library()
        rules = sorted_rules(library)
        if as_json:
            print_json({"library_version": library.version, "rules": [r.declaration() for r in rules]})
            return
        from rich.table import Table

        table = Table(title=f"规则库 {library.version}：{len(rules)} 类规则")
        for col in ("编码", "名称", "一级", "二级", "结果类型", "对象", "阶段", "参数", "法律依据"):
            table.add_column(col, overflow="fold")
        for r in rules:
            params = "；".join(f"{n}={_latest(p)}" for n, p in r.params.items()) or "—"
            basis = r.legal_basis[0][:30] + ("…" if len(r.legal_basis[0]) > 30 else "") if r.legal_basis else ""
            table.add_row(
                r.code,
                r.name,
                r.tier1,
                r.tier2,
                r.result_type,
                OBJECT_ZH[r.object_type],
                "、".join(r.stages),
                params,
                basis,
            )
        Console = type(console)
        Console(width=max(console.width, 200)).print(table)

    @rules_app.command("show", help="显示一条规则的声明与查询 / show one rule")
    def show_cmd(code: str, as_json: JsonOpt = False) -> None:
        from fundguard.engine.catalogue import rule_section
        from fundguard.engine.library import load_library

        library = load_library()
        rule = library.select([code])[0]
        if as_json:
            out = rule.declaration()
            out["query"] = rule.query
            print_json(out)
            return
        typer.echo(rule_section(rule))
        typer.echo("查询（query.sql）：")
        typer.echo(rule.query)

    @rules_app.command("docs", help="生成中文规则目录 / generate the Chinese rule catalogue")
    def docs_cmd(
        out: Annotated[Path, typer.Option("--out", help="输出文件 / output file")] = DEFAULT_DOC,
    ) -> None:
        from fundguard.engine.catalogue import catalogue_markdown
        from fundguard.engine.library import load_library

        library = load_library()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(catalogue_markdown(library), encoding="utf-8")
        console.print(f"已生成 {out}（{len(library.rules)} 类规则）")

    @rules_app.command("profile", help="剖析一条规则在数据仓库上的耗时与执行计划（只读）/ profile one rule (read-only)")
    def profile_cmd(
        code: str,
        warehouse: WarehouseOpt = None,
        sql: Annotated[
            Path | None, typer.Option("--sql", help="改用此 SQL 文件（如改写前的 query.sql）/ profile this SQL instead")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        from fundguard.engine.profile import profile_rule

        text = sql.read_text(encoding="utf-8") if sql else None
        res = profile_rule(warehouse or load_settings().warehouse, code, text)
        if as_json:
            print_json(res)
            return
        console.print(
            f"{code}（{res['query']}）：{res['seconds']} 秒，{res['rows']:,} 条，金额 {res['amount']:,.2f}，"
            f"落盘 {res['spilled_bytes'] / 1e6:,.0f} MB，循环/范围连接 {len(res['loop_joins'])} 个"
        )
        if res["shared_seconds"]:
            fills = "，".join(f"{n} {sec} 秒" for n, sec in res["shared_seconds"].items())
            console.print(f"  共享关系（先填充，不计入规则耗时）：{fills}")
        for op in res["top_operators"]:
            info = json.dumps(op["info"], ensure_ascii=False)[:160]
            console.print(
                f"  {op['seconds']:>8.2f} s  {op['operator']:<22} {op['rows'] or 0:>12,}  {info}", markup=False
            )
