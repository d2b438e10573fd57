"""The DuckDB warehouse: one file whose tables carry the national table names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from fundguard.config import load_settings
from fundguard.errors import FundguardError


def resolve_path(path: str | Path | None) -> Path:
    return Path(path) if path else Path(load_settings().warehouse)


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file with the configured resources."""
    p = resolve_path(path)
    if not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise FundguardError(
                f"无法打开数据仓库 {p}：正被其他进程使用（如正在加载、筛查或 Web 服务），请稍后重试",
                f"warehouse {p} is locked by another process (a load, screen or the web app); retry later",
            ) from e
        raise FundguardError(f"无法打开数据仓库 {p}：{e}", f"cannot open warehouse {p}: {e}") from e
    s = load_settings()
    if s.duckdb_threads:
        con.execute(f"SET threads={int(s.duckdb_threads)}")
    if s.duckdb_memory_limit:
        con.execute("SET memory_limit=?", [s.duckdb_memory_limit])
    return con


@contextmanager
def session(path: str | Path | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
    ).fetchone()
    return bool(row and row[0])
