"""The person store (sidecar of the history store) returns exactly the store's rows for each person,
and refuses a sidecar of another build or a store without one."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pytest

from fundguard.engine.views import table_columns
from fundguard.errors import FundguardError
from fundguard.realtime.history import PERSON_TABLES, build_from_warehouse, open_persons, open_store
from fundguard.realtime.person_store import sidecar_path

pytestmark = pytest.mark.slow


def _sorted_rows(table: pa.Table) -> list[tuple]:
    return sorted((tuple(map(str, r.values())) for r in table.to_pylist()), key=str)


def test_every_persons_rows_equal_the_store(region):
    _, _, store, _ = region
    con = open_store(store)
    persons = open_persons(con, store)
    try:
        everyone = [r[0] for r in con.execute("SELECT psn_no FROM h.psn_info ORDER BY psn_no").fetchall()]
        assert len(everyone) > 500
        # in passes of 64, as the batcher sends them, plus one person the store does not know
        for i in range(0, len(everyone), 64):
            chunk = everyone[i : i + 64]
            got = persons.fetch([*chunk, "NO-SUCH-PERSON"])
            for table, key in PERSON_TABLES.items():
                cols = ", ".join(table_columns(table))
                want = con.sql(
                    f"SELECT {cols} FROM h.{table} WHERE list_contains($chunk, {key})", params={"chunk": chunk}
                ).to_arrow_table()
                assert got[table].schema == want.schema, table
                assert _sorted_rows(got[table]) == _sorted_rows(want), (table, i)
        all_fee = persons.fetch(everyone)["fee_list_d"].num_rows
        assert all_fee == con.execute("SELECT count(*) FROM h.fee_list_d").fetchone()[0] > 0
        assert all(t.num_rows == 0 for t in persons.fetch([]).values())
    finally:
        persons.close()
        con.close()


def test_a_sidecar_of_another_build_is_refused(region, tmp_path):
    _, wh, store, _ = region
    other = tmp_path / "other.duckdb"
    build_from_warehouse(wh, other)
    shutil.copy(store, tmp_path / "mixed.duckdb")
    shutil.copy(sidecar_path(other), sidecar_path(tmp_path / "mixed.duckdb"))
    con = open_store(tmp_path / "mixed.duckdb")
    try:
        with pytest.raises(FundguardError, match="不是同一次构建"):
            open_persons(con, tmp_path / "mixed.duckdb")
    finally:
        con.close()
    sidecar_path(other).unlink()
    con = open_store(other)
    try:
        with pytest.raises(FundguardError, match="缺少按人员索引文件"):
            open_persons(con, other)
    finally:
        con.close()


def test_a_failed_build_leaves_the_old_store_and_sidecar(region, tmp_path, monkeypatch):
    _, wh, store, _ = region
    target = tmp_path / "h.duckdb"
    build_from_warehouse(wh, target)
    before = (target.read_bytes(), sidecar_path(target).read_bytes())

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("fundguard.realtime.person_store.write", broken)
    with pytest.raises(RuntimeError):
        build_from_warehouse(wh, target)
    assert (target.read_bytes(), sidecar_path(target).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.duckdb", "h.duckdb.persons.sqlite"]
