"""`fundguard serve`: start the web platform (uvicorn), migrating the workflow store first."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fundguard.cli.common import WarehouseOpt


def register(app: typer.Typer) -> None:
    @app.command("serve", help="启动 Web 监管平台 / start the web platform")
    def serve(
        warehouse: WarehouseOpt = None,
        host: Annotated[
            str | None, typer.Option("--host", help="监听地址 / bind address (default from config)")
        ] = None,
        port: Annotated[int | None, typer.Option("--port", help="端口 / port (default from config)")] = None,
        store_url: Annotated[
            str | None, typer.Option("--store-url", help="工作流库地址 / workflow store SQLAlchemy URL")
        ] = None,
        trusted_proxy: Annotated[
            str | None,
            typer.Option(
                "--trusted-proxy",
                help="反向代理地址，信任其 X-Forwarded-For 以记录真实来源 / proxy IP whose X-Forwarded-For is trusted",
            ),
        ] = None,
    ) -> None:
        import uvicorn

        from fundguard.config import load_settings
        from fundguard.web.app import create_app

        s = load_settings()
        if warehouse:
            s.warehouse = str(Path(warehouse))
        if host:
            s.host = host
        if port:
            s.port = port
        if store_url:
            s.store_url = store_url
        web = create_app(s)
        typer.echo(f"医保基金智能监管稽核平台 / fundguard web: http://{s.host}:{s.port}/")
        typer.echo(f"数据仓库 / warehouse: {s.warehouse}")
        if web.state.initial_admin_password:
            typer.echo("首次运行，已创建系统管理员 / first run, administrator created:")
            typer.echo("  用户名 / username: admin")
            typer.echo(f"  密码 / password: {web.state.initial_admin_password}")
            typer.echo("  此密码仅显示一次，首次登录须修改 / shown once; must be changed at first login")
        # Client addresses go into the operation log and the per-IP lock, so forwarded headers are honoured
        # only from a named reverse proxy.
        uvicorn.run(
            web,
            host=s.host,
            port=s.port,
            log_level="info",
            proxy_headers=bool(trusted_proxy),
            forwarded_allow_ips=trusted_proxy or None,
        )
