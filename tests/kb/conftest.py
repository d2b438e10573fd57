"""Shared paths and a warehouse holding the built-in knowledge (imported once per run)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from fundguard.kb import store

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "src" / "fundguard" / "resources" / "reference"
LIANGKU = REF / "nhsa-liangku"
NRDL = REF / "nrdl-2024" / "yao.xlsx"
FIXTURES = ROOT / "tests" / "fixtures" / "kb"


@pytest.fixture(scope="session")
def builtin_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "builtin.duckdb"
    con = duckdb.connect(str(path))
    store.import_builtin(con)
    con.close()
    return path


@pytest.fixture()
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield c
    c.close()
