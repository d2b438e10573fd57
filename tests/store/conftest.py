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
