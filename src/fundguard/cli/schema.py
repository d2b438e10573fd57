"""`fundguard schema`: the data dictionary of the national tables and code tables, on the terminal or as Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundguard.cli import common
from fundguard.data import codes, dictionary, schema
from fundguard.errors import FundguardError

DEFAULT_DOCS = Path("docs/data-dictionary.md")

out = Console(highlight=False)
app = typer.Typer(
    help="数据字典：国家医保数据表与代码表 / data dictionary of the national tables and code tables",
    no_args_is_help=True,
)


@app.command("list")
def list_tables(json_out: common.JsonOpt = False) -> None:
    """列出全部数据表 / list all tables."""
    rows = dictionary.tables_summary()
    if json_out:
        common.print_json(rows)
        return
    t = Table(title="数据表 / tables", caption="必需：首次加载必须提供的文件 / required on a first load")
    for h in ("表", "中文名", "类别", "主键", "字段", "必填", "必需"):
        t.add_column(h)
    for r in rows:
        t.add_row(
            r["name"],
            r["zh"],
            dictionary.KIND_ZH.get(r["kind"], r["kind"]),
            ", ".join(r["primary_key"]),
            str(r["columns"]),
            str(r["required_columns"]),
            "是" if r["required_file"] else "",
        )
    out.print(t)


def _show_code_table(name: str, json_out: bool) -> None:
    info = dictionary.code_table_info(name)
    if json_out:
        common.print_json(info)
        return
    t = Table(title=f"代码表 {info['name']} {info['zh']}", caption=f"来源 / source：{info['source']}")
    t.add_column("代码")
    t.add_column("名称")
    for k, v in info["codes"].items():
        t.add_row(k, v)
    out.print(t)
    if info["local_pattern"]:
        out.print(f"另接受地方扩展代码 / local codes accepted: {info['local_pattern']}", markup=False)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="表名或代码表名 / table or code-table name")],
    json_out: common.JsonOpt = False,
) -> None:
    """显示一张表的字段（或一个代码表的取值）/ show a table's columns (or a code table's values)."""
    if name not in schema.ALL_TABLES:
        if name in codes.ALL_CODE_TABLES:
            _show_code_table(name, json_out)
            return
        raise FundguardError(
            f"未知的表：{name}；可用：{', '.join(schema.ALL_TABLES)}",
            f"unknown table {name!r}; known: {', '.join(schema.ALL_TABLES)}",
        )
    info = dictionary.table_info(name)
    if json_out:
        common.print_json(info)
        return
    t = Table(
        title=f"{info['name']} {info['zh']}（{info['kind_zh']}）",
        caption=f"每行 / grain：{info['grain']}；主键 / key：{', '.join(info['primary_key'])}；来源 / source：{info['source']}",
    )
    for h in ("字段", "中文名", "类型", "必填", "代码表", "格式", "引用"):
        t.add_column(h, no_wrap=h in {"字段", "中文名", "类型"})
    t.add_column("说明", ratio=1)
    for c in info["columns"]:
        t.add_row(
            c["name"],
            c["zh"],
            c["sql_type"],
            "是" if c["required"] else "",
            c["codes"] or "",
            c["pattern"] or "",
            c["ref"] or "",
            c["desc"],
        )
    out.print(t)


@app.command("docs")
def docs(
    out_path: Annotated[
        Path, typer.Option("--out", help="输出的 Markdown 文件 / Markdown file to write")
    ] = DEFAULT_DOCS,
    check: Annotated[
        bool, typer.Option("--check", help="只检查文件是否最新，过期则退出码 1 / only check it is up to date")
    ] = False,
) -> None:
    """生成数据字典 Markdown / generate the data dictionary as Markdown."""
    text = dictionary.render_markdown()
    current = out_path.read_text(encoding="utf-8") if out_path.exists() else None
    if check:
        if current != text:
            common.console.print(
                f"{out_path} 已过期，请运行 fundguard schema docs / {out_path} is out of date", markup=False
            )
            raise typer.Exit(1)
        common.console.print(f"{out_path} 是最新的 / is up to date", markup=False)
        return
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    common.console.print(f"已写入 / wrote {out_path}", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="schema")
