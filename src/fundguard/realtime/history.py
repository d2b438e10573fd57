"""The history store: the warehouse's claims re-clustered by person, for point look-ups by psn_no.

The 事中 audit needs one person's prior visits, settlements, fee lines and diagnoses within a few
milliseconds, while the warehouse's fee_list_d may hold tens of millions of rows in load order. The
store is a separate DuckDB file whose person tables are written ORDER BY _pk = md5_number_upper(psn_no)
(diag_d/oprn_d carry the person in ``_psn_no``), with the reference tables (institutions,
practitioners) and the knowledge (kb_point) copied whole, plus a sidecar (``person_store``) holding the
same person rows in compressed pages keyed by _pk: the 事中 context reads a pass's persons from the
sidecar in one look-up (columnar row groups were decompressed whole for each person: 2.4-3.1 s for a
cold 64-person pass, 0.2-0.3 s from the sidecar); the DuckDB tables remain for sampling, replay and
queries.

Built from a warehouse (``build_from_warehouse``) or straight from a folder of national Parquet files
plus knowledge (``build_from_folder``, used by the benchmark); rebuilt atomically (temp files renamed
over the old ones, sidecar first; both carry one build id), so a server that opens it read-only never
sees half a store or a store paired with another build's sidecar.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from fundguard.engine.views import table_columns
from fundguard.errors import FundguardError
from fundguard.realtime import person_store

# Person-scoped tables and the column they are clustered by.
PERSON_TABLES: dict[str, str] = {
    "psn_info": "psn_no",
    "mdtrt_d": "psn_no",
    "setl_d": "psn_no",
    "fee_list_d": "psn_no",
    "diag_d": "_psn_no",
    "oprn_d": "_psn_no",
}
REFERENCE_TABLES = ("fixmedins", "practitioner")
MEMORY_LIMIT = "6GB"  # build on a shared machine: 1M persons / 27.6M lines was OOM-killed at 17 GB unbounded

Source = Callable[[str], str | None]  # table name -> relation SQL (None: missing)


def _quote(path: Path | str) -> str:
    return str(path).replace("'", "''")


def _select_schema(table: str, present: set[str], rel: str) -> str:
    cols = [c if c in present else f"CAST(NULL AS {t}) AS {c}" for c, t in table_columns(table).items()]
    return f"SELECT {', '.join(cols)} FROM {rel}"


def _present(con: duckdb.DuckDBPyConnection, rel: str) -> set[str]:
    return {d[0] for d in con.execute(f"SELECT * FROM {rel} LIMIT 0").description}


def _build(
    out: Path,
    source: Source,
    kb_loader: Callable[[duckdb.DuckDBPyConnection], None],
    origin: str,
    setup: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> dict:
    t0 = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".building")
    if tmp.exists():
        tmp.unlink()
    side, side_tmp = person_store.sidecar_path(out), person_store.sidecar_path(tmp)
    build_id = uuid.uuid4().hex
    con = duckdb.connect()
    # bounded memory: the sort of a large fee_list_d spills to disk instead of exhausting RAM
    spill = out.parent / (out.name + ".spill")
    con.execute(f"SET temp_directory='{_quote(spill)}'")
    con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
    rows: dict[str, int] = {}
    try:
        if setup is not None:
            setup(con)
        # default row groups: look-ups go to the sidecar (4 096-row groups for direct look-ups cost +40 % size)
        con.execute(f"ATTACH '{_quote(tmp)}' AS hs")
        con.execute("SET preserve_insertion_order = true")
        for table, key in PERSON_TABLES.items():
            rel = source(table)
            cols = ", ".join(f"{c} {t}" for c, t in table_columns(table).items())
            extra = (", _psn_no VARCHAR" if key == "_psn_no" else "") + ", _pk UBIGINT"
            con.execute(f"CREATE TABLE hs.{table} ({cols}{extra})")
            if rel is None:
                continue
            select = _select_schema(table, _present(con, rel), rel)
            if key == "_psn_no":
                mdtrt = source("mdtrt_d")
                if mdtrt is None:
                    continue
                select = f"SELECT s.*, m.psn_no AS _psn_no FROM ({select}) s JOIN (SELECT mdtrt_id, psn_no FROM {mdtrt}) m USING (mdtrt_id)"
            select = f"SELECT *, md5_number_upper({key}) AS _pk FROM ({select})"
            order = f"_pk, {key}, fee_ocur_time" if table == "fee_list_d" else f"_pk, {key}"
            con.execute(f"INSERT INTO hs.{table} SELECT * FROM ({select}) ORDER BY {order}")
            rows[table] = con.execute(f"SELECT count(*) FROM hs.{table}").fetchone()[0]
        for table in REFERENCE_TABLES:
            cols = ", ".join(f"{c} {t}" for c, t in table_columns(table).items())
            con.execute(f"CREATE TABLE hs.{table} ({cols})")
            rel = source(table)
            if rel is not None:
                con.execute(f"INSERT INTO hs.{table} {_select_schema(table, _present(con, rel), rel)}")
            rows[table] = con.execute(f"SELECT count(*) FROM hs.{table}").fetchone()[0]
        con.execute("USE hs")
        kb_loader(con)
        rows["kb_point"] = con.execute("SELECT count(*) FROM hs.kb_point").fetchone()[0]
        built = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        con.execute("CREATE TABLE hs.history_meta (key VARCHAR, value VARCHAR)")
        con.execute(
            "INSERT INTO hs.history_meta VALUES ('built_at', ?), ('origin', ?), ('build_id', ?)",
            [built.isoformat(sep=" "), origin, build_id],
        )
        rows["person_pages"] = person_store.write(
            con, "hs", {t: (key, list(table_columns(t))) for t, key in PERSON_TABLES.items()}, side_tmp, build_id
        )
        con.execute("USE memory")
        con.execute("DETACH hs")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        side_tmp.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
        raise
    con.close()
    shutil.rmtree(spill, ignore_errors=True)
    # sidecar first: a reader pairing the old store with the new sidecar sees different build ids and stops
    os.replace(side_tmp, side)
    os.replace(tmp, out)
    return {
        "path": str(out),
        "person_store": str(side),
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 1),
        "origin": origin,
    }


def build_from_warehouse(warehouse: Path | str, out: Path | str) -> dict:
    """Copy the warehouse's claims (clustered by person), reference tables and kb_point into `out`."""
    wh = Path(warehouse)
    if not wh.exists():
        raise FundguardError(f"数据仓库不存在：{wh}", f"warehouse not found: {wh}")
    names: set[str] = set()

    def setup(con: duckdb.DuckDBPyConnection) -> None:
        try:
            con.execute(f"ATTACH '{_quote(wh)}' AS wh (READ_ONLY)")
        except duckdb.Error as e:
            raise FundguardError(f"无法只读打开数据仓库 {wh}：{e}", f"cannot open warehouse {wh} read-only: {e}") from e
        rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh'").fetchall()
        names.update(r[0] for r in rows)
        if "kb_point" not in names:
            raise FundguardError(
                "数据仓库中没有知识库（kb_point），请先执行 fundguard kb import",
                "the warehouse has no kb_point; run fundguard kb import first",
            )

    def source(table: str) -> str | None:
        return f"wh.{table}" if table in names else None

    def kb(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE hs.kb_point AS SELECT * FROM wh.kb_point")

    return _build(Path(out), source, kb, f"warehouse:{wh}", setup)


def build_from_folder(folder: Path | str, out: Path | str) -> dict:
    """From a folder of national Parquet files (e.g. `fundguard synth`): knowledge = built-in batches + folder/kb."""
    folder = Path(folder)
    if not (folder / "fee_list_d.parquet").exists():
        raise FundguardError(f"{folder} 中没有 fee_list_d.parquet", f"no fee_list_d.parquet in {folder}")

    def source(table: str) -> str | None:
        p = folder / f"{table}.parquet"
        return f"read_parquet('{_quote(p)}')" if p.exists() else None

    def kb(con: duckdb.DuckDBPyConnection) -> None:
        from fundguard.kb.store import import_builtin, import_files

        import_builtin(con)
        kb_dir = folder / "kb"
        if kb_dir.is_dir():
            files = sorted(p for p in kb_dir.iterdir() if p.is_file() and not p.name.startswith("."))
            if files:
                import_files(con, files)

    return _build(Path(out), source, kb, f"folder:{folder}")


def open_persons(con: duckdb.DuckDBPyConnection, path: Path | str) -> person_store.PersonStore:
    """The person-store sidecar of the store attached to `con` as `h` (checked to be of the same build)."""
    rows = con.execute("SELECT value FROM h.history_meta WHERE key = 'build_id'").fetchall()
    if not rows:
        raise FundguardError(
            f"历史库 {path} 由旧版本构建，缺少按人员索引（请重新执行 fundguard audit build-history）",
            f"history store {path} predates the person index (rerun fundguard audit build-history)",
        )
    return person_store.PersonStore(person_store.sidecar_path(path), rows[0][0])


def open_store(path: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the store attached read-only as `h`."""
    p = Path(path)
    if not p.exists():
        raise FundguardError(
            f"历史库不存在：{p}（请先执行 fundguard audit build-history）",
            f"history store not found: {p} (run fundguard audit build-history)",
        )
    con = duckdb.connect()
    con.execute(f"ATTACH '{_quote(p)}' AS h (READ_ONLY)")
    return con
