"""`fundguard demo`: the README's command (a) — build a synthetic region, load it, import the knowledge,
screen it with the whole rule library, score it against its labels, then serve the web platform on it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import console, progress


def _build(out: Path, warehouse: Path, persons: int, seed: int, months: int) -> None:
    from fundguard.data.synth import generate
    from fundguard.engine.evaluate import evaluate

    # A demo always starts from a fresh region and warehouse so reruns give the same picture.
    shutil.rmtree(out, ignore_errors=True)
    for f in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        f.unlink(missing_ok=True)
    warehouse.parent.mkdir(parents=True, exist_ok=True)

    with progress() as p:
        task = p.add_task("生成模拟统筹区 / building the synthetic region", total=None)

        def on_progress(stage: str, done: int, total: int) -> None:
            p.update(task, completed=done, total=total)

        summary = generate(out, persons=persons, seed=seed, months=months, progress=on_progress)
        p.update(task, completed=1, total=1)
    rows = summary["rows"]
    console.print(
        f"模拟统筹区 / region: {out}  参保人 {rows.get('psn_info', 0):,} 人，就诊 {rows.get('mdtrt_d', 0):,} 次，"
        f"结算 {rows.get('setl_d', 0):,} 笔，费用明细 {rows.get('fee_list_d', 0):,} 条，"
        f"注入违规 {summary['label_rows']:,} 处（{len(summary['labels'])} 类场景），用时 {summary['seconds']} 秒"
    )

    console.print("加载数据、导入知识库、全规则库筛查 / loading, importing knowledge, screening …")
    result, scores = evaluate(out, warehouse=warehouse)
    console.print(
        f"筛查完成 / screened: {len(result.stats)} 类规则，疑点 {result.n_findings:,} 条，"
        f"涉及金额 {result.total_amount:,.2f} 元，用时 {result.seconds:.1f} 秒"
    )
    from rich.table import Table

    t = Table(title="按注入场景评估 / scored against the injected scenarios", width=110)
    for col in ("场景 scenario", "标注 labels", "召回率 recall", "精确率 precision", "达标 passed"):
        t.add_column(col)
    for s in scores:
        t.add_row(
            f"{s.zh} {s.id}",
            str(s.labelled),
            "-" if s.recall is None else f"{s.recall:.3f}",
            "-" if s.precision is None else f"{s.precision:.3f}",
            {True: "是", False: "否", None: "统计类"}[s.passed],
        )
    console.print(t)


DEMO_USERS = (
    ("kezhang", "chief", "科长（终审）"),
    ("jihe", "auditor", "稽核员（初审）"),
    ("fuhe", "reviewer", "复核员"),
)


def _demo_users(store) -> list[tuple[str, str, str]]:
    """Business users for the demo (the administrator cannot see business data by design); a rerun
    gives each a fresh one-time password, which the operation log records."""
    from sqlalchemy import select

    from fundguard.store import oplog
    from fundguard.store.models import User
    from fundguard.store.passwords import hash_password, random_password
    from fundguard.store.users import create_user

    out = []
    with store.session() as s:
        for username, role, label in DEMO_USERS:
            password = random_password()
            user = s.execute(select(User).where(User.username == username)).scalar()
            if user is None:
                create_user(s, username, password, role, display_name=label, admdvs_scope="*", actor="demo")
            else:
                user.password_hash, user.must_change_password, user.active = hash_password(password), True, True
                oplog.append(s, "password_reset", username="demo", target=f"user:{username}")
            out.append((username, label, password))
    return out


def register(app: typer.Typer) -> None:
    @app.command(
        "demo", help="演示：生成模拟统筹区、筛查并启动 Web 界面 / demo: build a region, screen it, serve the UI"
    )
    def demo(
        out: Annotated[Path, typer.Option("--out", help="模拟数据目录 / region folder")] = Path("var/demo-region"),
        warehouse: Annotated[Path, typer.Option("--warehouse", "-w", help="数据仓库 / warehouse")] = Path(
            "var/demo.duckdb"
        ),
        persons: Annotated[int, typer.Option("--persons", help="参保人数 / insured persons")] = 2000,
        seed: Annotated[int, typer.Option("--seed", help="随机种子 / seed")] = 20240101,
        months: Annotated[int, typer.Option("--months", help="月份数 / months")] = 12,
        host: Annotated[str, typer.Option("--host", help="监听地址 / bind address")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="端口 / port")] = 8000,
        serve: Annotated[bool, typer.Option("--serve/--no-serve", help="完成后启动 Web / serve the UI")] = True,
    ) -> None:
        _build(out, warehouse, persons, seed, months)
        if not serve:
            return
        import uvicorn

        from fundguard.config import load_settings
        from fundguard.web.app import create_app

        s = load_settings()
        s.warehouse = str(warehouse)
        s.store_url = f"sqlite:///{warehouse.with_name('demo-store.sqlite')}"
        s.host, s.port = host, port
        web = create_app(s)
        logins = _demo_users(web.state.store)
        console.print(f"\n[bold]Web 监管平台 / web platform: http://{host}:{port}/[/bold]")
        if web.state.initial_admin_password:
            logins.insert(0, ("admin", "系统管理员（仅用户管理）", web.state.initial_admin_password))
        console.print("演示账号（首次登录须修改密码）/ demo logins (change the password at first login):")
        for username, role, password in logins:
            console.print(f"  {role:<16} 用户名 {username:<8} 密码 {password}")
        uvicorn.run(web, host=host, port=port, log_level="warning")
