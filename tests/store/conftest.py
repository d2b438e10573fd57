"""The workflow store on SQLite and on the suite's PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fundguard.store.db import Store, make_engine
from fundguard.store.models import Base


def _reset_pg(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as con:
        Base.metadata.drop_all(con)
        con.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def _fast_argon2():
    """Cheaper argon2 parameters for the test run only (each hash records its own parameters, so verification
    is unchanged); production keeps argon2-cffi's defaults."""
    from argon2 import PasswordHasher

    from fundguard.store import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
        _reset_pg(url)
    s = Store(url)
    yield s
    s.dispose()
