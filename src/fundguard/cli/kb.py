"""`fundguard kb import|list|show`: the knowledge base (知识库) — import official and local files, inspect."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fundguard import warehouse
from fundguard.cli import common
from fundguard.errors import FundguardError
from fundguard.kb import store

out = Console(highlight=False)
EXIT_REJECTED = 2

kb_app = typer.Typer(
    help="知识库：导入两库批次、药品目录、ICD/DRG 编码与本地知识 / knowledge base: import and inspect kb_point",
    no_args_is_help=True,
)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {value}") from e


@kb_app.command("import")
def import_cmd(
    files: Annotated[list[Path] | None, typer.Argument(help="知识文件 / knowledge files (.xlsx .csv .dat)")] = None,
    warehouse_path: common.WarehouseOpt = None,
    builtin: Annotated[
        bool,
        typer.Option("--builtin", help="导入随附的官方文件与整理表 / import the shipped official and curated files"),
    ] = False,
    effective: Annotated[
        str | None,
        typer.Option(
            "--effective", help="缺省生效日期 YYYY-MM-DD / default begndate (else the file's own date, else 2020-01-01)"
        ),
    ] = None,
    as_json: common.JsonOpt = False,
) -> None:
    """导入知识文件（一次导入一个事务，失败不改动知识库）/ import knowledge files (one transaction)."""
    paths = list(files or [])
    if builtin:
        paths = store.builtin_paths() + paths
    if not paths:
        raise typer.BadParameter("请指定文件或 --builtin / give files or --builtin")
    eff = _date(effective)
    failure: FundguardError | None = None
    with warehouse.session(warehouse_path) as con, common.progress(quiet=as_json) as bar:
        task = bar.add_task("读取知识文件 / reading", total=len(paths))

        def on_file(p: Path) -> None:
            bar.update(task, advance=1, description=f"读取 / reading {p.name}")

        try:
            summary = store.import_files(con, paths, effective=eff, on_file=on_file)
        except FundguardError as e:
            failure = e
    if failure is not None:
        if as_json:
            common.print_json(
                {
                    "ok": False,
                    "error_zh": failure.zh,
                    "error_en": failure.en,
                    "problems": [p.as_dict() for p in failure.problems],
                }
            )
        else:
            common.console.print(failure.report(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REJECTED)
    if as_json:
        common.print_json({"ok": True, **summary})
        return
    t = Table(title=f"知识库导入完成 / imported：版本 {summary['kb_version']}，共 {summary['rows']} 条知识点")
    for h in ("文件 file", "版式 layout", "知识点 rows"):
        t.add_column(h)
    for f in summary["files"]:
        t.add_row(f["file"], f["layout"], str(f["rows"]))
    out.print(t)


@kb_app.command("list")
def list_cmd(warehouse_path: common.WarehouseOpt = None, as_json: common.JsonOpt = False) -> None:
    """按知识点类型统计（数量、来源、版本）/ counts per kp_type with sources and versions."""
    with warehouse.session(warehouse_path) as con:
        s = store.summary(con)
    if as_json:
        common.print_json(s)
        return
    t = Table(title=f"知识库 / knowledge base：共 {s['total']} 条知识点")
    for h in ("类型 kp_type", "名称", "数量 count", "来源文件 sources", "版本 versions"):
        t.add_column(h)
    for k in s["kp_types"]:
        srcs = k["sources"]
        shown = "、".join(srcs[:3]) + (f" 等{len(srcs)}个" if len(srcs) > 3 else "")
        t.add_row(k["kp_type"], k["name"], str(k["count"]), shown, "、".join(k["versions"]))
    out.print(t)


@kb_app.command("show")
def show_cmd(
    key: Annotated[str, typer.Argument(help="知识点类型或编码/名称 / a kp_type, a code or a name")],
    warehouse_path: common.WarehouseOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="最多显示条数 / max rows shown")] = 200,
    as_json: common.JsonOpt = False,
) -> None:
    """显示某类型或某编码的知识点 / show the points of a kp_type or about a code."""
    with warehouse.session(warehouse_path) as con:
        r = store.show(con, key, limit=limit)
    df = r["points"]
    if as_json:
        recs = df.astype(object).where(df.notna(), None).to_dict(orient="records")
        common.print_json({"key": key, "is_kp_type": r["is_kp_type"], "count": r["count"], "points": recs})
        return
    if r["count"] == 0:
        common.console.print(f"没有找到知识点 / no knowledge points for: {key}", markup=False)
        raise typer.Exit(1)
    t = Table(title=f"{key}：{r['count']} 条知识点" + (f"（显示前 {len(df)} 条）" if len(df) < r["count"] else ""))
    cols = [
        "kp_type",
        "med_list_codg",
        "code_prefix",
        "item_name",
        "limit_value",
        "limit_num",
        "limit_unit",
        "window_days",
        "related_codg",
        "group_name",
        "begndate",
        "enddate",
        "source_file",
        "source_row",
    ]
    cols = [c for c in cols if df[c].notna().any()]  # a narrow terminal shows only what is filled
    for c in cols:
        t.add_column(c, overflow="fold")
    for rec in df[cols].astype(object).where(df[cols].notna(), None).itertuples(index=False):
        t.add_row(*["" if v is None else str(v) for v in rec])
    out.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(kb_app, name="kb", help="知识库导入与查看 / knowledge base import and inspection")
