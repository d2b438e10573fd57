"""Configuration: defaults, overridden by a TOML file and then by FUNDGUARD_* environment variables.

Lookup order for the file: $FUNDGUARD_CONFIG, then ./fundguard.toml. Every key has an env twin,
e.g. `warehouse` ← FUNDGUARD_WAREHOUSE, `store_url` ← FUNDGUARD_STORE_URL.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass
class Settings:
    # DuckDB warehouse holding claims, knowledge and findings (analytics side).
    warehouse: str = "var/fundguard.duckdb"
    # SQLAlchemy URL of the workflow store (users, reviews, operation log).
    store_url: str = "sqlite:///var/fundguard-store.sqlite"
    # Spark master: local[*] by default; a cluster URL, or sc://host:15002 for Spark Connect.
    spark_master: str = "local[*]"
    spark_driver_memory: str = "4g"
    # DuckDB resources; memory_limit like "8GB" (empty = DuckDB default 80% of RAM).
    duckdb_threads: int = 0
    duckdb_memory_limit: str = ""
    # Rules a DuckDB screen computes at once, each on its own connection (1 = one after another).
    screen_workers: int = 2
    # Web app.
    host: str = "127.0.0.1"
    port: int = 8000
    session_timeout_minutes: int = 30
    # Region the deployment serves (医保区划, 6 digits), used for parameter overrides.
    admdvs: str = ""


def config_path() -> Path | None:
    env = os.environ.get("FUNDGUARD_CONFIG")
    if env:
        return Path(env)
    local = Path("fundguard.toml")
    return local if local.exists() else None


def load_settings() -> Settings:
    s = Settings()
    path = config_path()
    if path is not None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for f in fields(Settings):
            if f.name in data:
                setattr(s, f.name, type(getattr(s, f.name))(data[f.name]))
    for f in fields(Settings):
        env = os.environ.get(f"FUNDGUARD_{f.name.upper()}")
        if env is not None:
            setattr(s, f.name, type(getattr(s, f.name))(env))
    return s
