"""`fundguard admin …` (workflow store, users) and `fundguard oplog verify` (operation-log hash chain)."""

from __future__ import annotations

from typing import Annotated

import typer

from fundguard.cli.common import JsonOpt, console, print_json

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="工作流库地址 / workflow store SQLAlchemy URL (default from config)")
]


def _store(url: str | None, migrate: bool = True):
    from fundguard.config import load_settings
    from fundguard.store.db import Store

    return Store(url or load_settings().store_url, auto_migrate=migrate)


def register(app: typer.Typer) -> None:
    admin = typer.Typer(help="系统管理：数据库迁移与用户 / administration: migrations and users", no_args_is_help=True)
    oplog_app = typer.Typer(help="操作日志 / operation log", no_args_is_help=True)
    app.add_typer(admin, name="admin")
    app.add_typer(oplog_app, name="oplog")

    @admin.command("migrate", help="升级工作流库到最新版本 / upgrade the workflow store schema")
    def migrate(store_url: StoreOpt = None) -> None:
        from fundguard.store import oplog
        from fundguard.store.users import bootstrap_admin

        store = _store(store_url)
        with store.session() as s:
            password = bootstrap_admin(s)
            oplog.append(s, "migrate", username="cli")
        typer.echo("工作流库已是最新版本 / workflow store is up to date")
        if password:
            typer.echo(
                f"已创建系统管理员 admin，初始密码（仅显示一次）/ admin created, password (shown once): {password}"
            )

    @admin.command("create-user", help="新建用户（生成初始密码）/ create a user with a generated password")
    def create_user(
        username: str,
        role: Annotated[str, typer.Option("--role", help="admin|auditor|reviewer|chief|analyst|institution")],
        name: Annotated[str, typer.Option("--name", help="姓名 / display name")] = "",
        admdvs: Annotated[str, typer.Option("--admdvs", help="统筹区，逗号分隔，* 为全部 / regions")] = "",
        fixmedins_code: Annotated[str, typer.Option("--fixmedins-code", help="定点机构用户的机构编号")] = "",
        store_url: StoreOpt = None,
    ) -> None:
        from fundguard.store.passwords import random_password
        from fundguard.store.users import create_user as _create

        password = random_password()
        with _store(store_url).session() as s:
            _create(
                s,
                username,
                password,
                role,
                display_name=name,
                admdvs_scope=admdvs,
                fixmedins_code=fixmedins_code or None,
                actor="cli",
            )
        typer.echo(f"已创建 {username}，初始密码（首次登录须修改）/ created, initial password: {password}")

    @admin.command("reset-password", help="重置密码并解除锁定 / reset a password and unlock")
    def reset_password(username: str, store_url: StoreOpt = None) -> None:
        from sqlalchemy import delete, select

        from fundguard.errors import FundguardError
        from fundguard.store import oplog
        from fundguard.store.models import LoginThrottle, User, WebSession
        from fundguard.store.passwords import hash_password, random_password

        password = random_password()
        with _store(store_url).session() as s:
            u = s.execute(select(User).where(User.username == username)).scalar()
            if u is None:
                raise FundguardError(f"用户不存在：{username}", f"no such user: {username}")
            u.password_hash, u.must_change_password, u.active = hash_password(password), True, True
            s.execute(delete(WebSession).where(WebSession.user_id == u.id))
            s.execute(delete(LoginThrottle).where(LoginThrottle.key == f"user:{username}"))
            oplog.append(s, "password_reset", username="cli", target=f"user:{username}")
        typer.echo(f"新初始密码 / new initial password: {password}")

    @admin.command("list-users", help="列出用户 / list users")
    def list_users(store_url: StoreOpt = None, as_json: JsonOpt = False) -> None:
        from sqlalchemy import select

        from fundguard.store.models import User
        from fundguard.store.roles import role_zh

        with _store(store_url).session() as s:
            rows = [
                {
                    "username": u.username,
                    "name": u.display_name,
                    "role": u.role,
                    "role_zh": role_zh(u.role),
                    "admdvs": u.admdvs_scope,
                    "fixmedins_code": u.fixmedins_code,
                    "active": u.active,
                    "must_change_password": u.must_change_password,
                }
                for u in s.execute(select(User).order_by(User.id)).scalars()
            ]
        if as_json:
            print_json(rows)
            return
        for r in rows:
            typer.echo(
                f"{r['username']}\t{r['role_zh']}\t{r['admdvs']}\t{r['fixmedins_code'] or ''}\t"
                f"{'启用' if r['active'] else '停用'}"
            )

    @oplog_app.command("verify", help="校验操作日志哈希链，报告第一处断裂 / verify the hash chain")
    def verify(store_url: StoreOpt = None, as_json: JsonOpt = False) -> None:
        from fundguard.store import oplog

        with _store(store_url).session() as s:
            result = oplog.verify(s)
        if as_json:
            print_json(result.__dict__)
        elif result.ok:
            typer.echo(f"操作日志完整：{result.rows} 条记录 / operation log intact: {result.rows} rows")
        else:
            console.print(f"错误：{result.reason_zh}", markup=False)
            console.print(f"Error: {result.reason_en}", markup=False)
        if not result.ok:
            raise typer.Exit(1)
