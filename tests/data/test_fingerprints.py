"""Kept visit fingerprints (decision 0020): the loader keeps them equal to a full computation; a screen uses them
only while every visit table's totals match, and keeps what it computed otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from fundguard.data import fingerprints as fp
from fundguard.data.load import load_dir
from fundguard.engine.screen import ScreenOptions, screen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "load" / "region"
MONTH1, MONTH2 = FIXTURES / "month1", FIXTURES / "month2"


def computed(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    fp.compute_visit_fingerprints(con, "_check_fp")
    rows = con.execute("SELECT mdtrt_id, fp, n FROM _check_fp ORDER BY mdtrt_id").fetchall()
    con.execute("DROP TABLE _check_fp")
    return rows


def kept(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"SELECT mdtrt_id, fp, n FROM {fp.KEPT_FP} ORDER BY mdtrt_id").fetchall()


def assert_kept_current(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        assert kept(con) == computed(con) and kept(con)
        assert fp.kept_totals(con) == fp.table_totals(con)
    finally:
        con.close()


def test_loads_keep_the_fingerprints_a_full_computation_gives(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    load_dir(MONTH1, db)  # a new warehouse; fee_list_d grows the extra column `memo` while still empty
    assert_kept_current(db)
    load_dir(MONTH2, db)  # new visits, and lines and visits of month 1 replaced by key
    assert_kept_current(db)
    load_dir(MONTH2, db)  # the same again: every row replaced by itself
    assert_kept_current(db)


def test_a_column_added_to_a_table_with_rows_drops_the_kept_state(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    load_dir(MONTH1, db)
    month = shutil.copytree(MONTH2, tmp_path / "month2")
    (month / "fee_list_d.parquet").unlink()  # mdtrt_d.csv gains a column the warehouse does not have
    lines = (month / "mdtrt_d.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",note"] + [line + ",x" for line in lines[1:]]
    (month / "mdtrt_d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_dir(month, db)
    con = duckdb.connect(str(db))
    try:
        assert kept(con) == [] and fp.kept_totals(con) == {}
        # the next screen computes them (nothing kept to trust) and keeps them
        fp.current_visit_fingerprints(con, "_cur", "_tot")
        assert con.execute("SELECT bool_and(NOT kept) FROM _tot").fetchone()[0]
        fp.keep_computed_fingerprints(con, "_cur", "_tot")
        assert kept(con) == computed(con) and fp.kept_totals(con) == fp.table_totals(con)
    finally:
        con.close()


def test_an_edit_outside_the_loader_is_seen_and_the_screen_keeps_what_it_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "wh.duckdb"
    load_dir(MONTH1, db)
    screen(db, ScreenOptions(rules=["GZ10000301004000"]))
    con = duckdb.connect(str(db))
    before = fp.table_totals(con)
    con.execute("UPDATE fee_list_d SET cnt = cnt + 1 WHERE feedetl_sn = (SELECT min(feedetl_sn) FROM fee_list_d)")
    changed = con.execute("SELECT mdtrt_id FROM fee_list_d WHERE feedetl_sn = (SELECT min(feedetl_sn) FROM fee_list_d)")
    visit = changed.fetchone()[0]
    assert fp.table_totals(con)["fee_list_d"] != before["fee_list_d"]
    assert fp.kept_totals(con) == before  # the kept state does not know of the edit …
    con.close()

    # … so the screen computes the fingerprints: the edited visit is re-screened, and what it computed is kept
    calls: list[str] = []
    real = fp.compute_visit_fingerprints
    monkeypatch.setattr(fp, "compute_visit_fingerprints", lambda c, into: (calls.append(into), real(c, into))[1])
    result = screen(db, ScreenOptions(rules=["GZ10000301004000"]))
    assert calls and result.affected_visits == 1
    con = duckdb.connect(str(db))
    try:
        assert con.execute("SELECT count(*) FROM screen_visit_state WHERE mdtrt_id = ?", [visit]).fetchone()[0] == 1
        calls.clear()
        monkeypatch.setattr(fp, "compute_visit_fingerprints", real)
    finally:
        con.close()
    assert_kept_current(db)

    # nothing changed since: the next screen takes the kept fingerprints and computes none
    def refuse(c: duckdb.DuckDBPyConnection, into: str) -> None:
        raise AssertionError("computed although the kept fingerprints are current")

    monkeypatch.setattr(fp, "compute_visit_fingerprints", refuse)
    again = screen(db, ScreenOptions(rules=["GZ10000301004000"]))
    assert again.affected_visits == 0
