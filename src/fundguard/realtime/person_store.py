"""The person store: persons' history rows in compressed pages, a person found in one read.

The history store's person tables are columnar: finding one person skips other row groups by their
min/max, but the row groups it does touch are decompressed whole, for every column. Under load (a
64-person pass) that cold read cost 2.4-3.1 s (docs/realtime-audit.md). This sidecar keeps the rows of
every person table (PERSON_TABLES) in pages of about PERSONS_PER_PAGE persons (the persons whose
md5-derived key ``_pk`` shares its top ``bits`` bits, the store's clustering key), each page one
zstd-compressed SQLite row of Arrow IPC record batches: a B-tree look-up, one small decompression and
zero-copy Arrow reads that DuckDB scans directly. Pages rather than single persons: serialising a
60-column batch costs the same for one row as for a hundred, so per-person blobs took 0.75 ms each to
build (12 min for 1M persons) and compressed worse.

Layout of a page (before compression): for each table in PERSON_TABLES order a little-endian uint32
length, then that many bytes of an IPC record-batch message (length 0: no rows); each batch carries the
table's person key as its first column ``_key``. Schemas are stored once in ``meta``. The DuckDB store
keeps the same rows for sampling and ad-hoc queries; both files carry the same ``build_id`` so a reader
never pairs a store with another build's sidecar.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from fundguard.errors import FundguardError

SUFFIX = ".persons.sqlite"
PERSONS_PER_PAGE = 8
_CODEC = pa.Codec("zstd", compression_level=3)  # level 3: -5 % size for +30 % build time over level 1
_PAGES_PER_READ = 1024  # pages read from the store per statement while building
_LEN = struct.Struct("<I")


def sidecar_path(store: Path | str) -> Path:
    p = Path(store)
    return p.with_name(p.name + SUFFIX)


def person_key(psn_no: str) -> int:
    """The store's clustering key of a person: DuckDB's md5_number_upper(psn_no)."""
    return int.from_bytes(hashlib.md5(psn_no.encode()).digest()[:8], "little")


def _page_bits(persons: int) -> int:
    return max(1, math.ceil(math.log2(max(1, persons) / PERSONS_PER_PAGE)))  # >= 1: DuckDB has no 64-bit shift


def write(
    con: duckdb.DuckDBPyConnection,
    db: str,
    tables: dict[str, tuple[str, list[str]]],
    out: Path,
    build_id: str,
) -> int:
    """Write the sidecar for the person tables of database `db` (attached to `con`), each with the
    clustering key ``_pk``; `tables` maps table -> (person key column, columns to keep). Returns pages."""
    persons = con.execute(f"SELECT count(DISTINCT psn_no) FROM {db}.psn_info").fetchall()[0][0]
    bits = _page_bits(persons)
    out.unlink(missing_ok=True)
    lite = sqlite3.connect(out)
    try:
        lite.execute("PRAGMA journal_mode = OFF")
        lite.execute("PRAGMA synchronous = OFF")
        lite.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB)")
        lite.execute("CREATE TABLE page (page INTEGER PRIMARY KEY, raw_size INTEGER NOT NULL, data BLOB NOT NULL)")
        schemas = {
            t: con.sql(f"SELECT {key} AS _key, {', '.join(cols)} FROM {db}.{t} LIMIT 0").to_arrow_table().schema
            for t, (key, cols) in tables.items()
        }
        lite.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("build_id", build_id.encode()), ("tables", ",".join(tables).encode()), ("bits", str(bits).encode())]
            + [(f"schema:{t}", schemas[t].serialize().to_pybytes()) for t in tables],
        )
        pages = 0
        with ThreadPoolExecutor(2, thread_name_prefix="person-pages") as pool:
            for first in range(0, 1 << bits, _PAGES_PER_READ):
                rows = list(_pages(con, db, tables, bits, first, min(first + _PAGES_PER_READ, 1 << bits), pool))
                lite.executemany("INSERT INTO page VALUES (?, ?, ?)", rows)
                pages += len(rows)
        lite.commit()
    finally:
        lite.close()
    return pages


def _pages(
    con: duckdb.DuckDBPyConnection,
    db: str,
    tables: dict[str, tuple[str, list[str]]],
    bits: int,
    first: int,
    end: int,
    pool: ThreadPoolExecutor,
) -> Iterable[tuple[int, int, bytes]]:
    """The compressed pages [first, end), encoded on the pool's threads (Arrow serialises and
    compresses without the GIL: 2 threads build 1.8x faster)."""
    shift = 64 - bits
    spans: dict[str, dict[int, tuple[int, int]]] = {}
    data: dict[str, pa.Table] = {}
    for table, (key, cols) in tables.items():
        upper = f"AND _pk < {end << shift}" if end < 1 << bits else ""
        t = con.sql(
            f"SELECT _pk >> {shift} AS _page, {key} AS _key, {', '.join(cols)} FROM {db}.{table} "
            f"WHERE _pk >= {first << shift} {upper} ORDER BY _pk, {key}"
        ).to_arrow_table()
        data[table] = t.drop_columns(["_page"]).combine_chunks()
        # rows are ordered by page: each page is one run
        runs = pc.run_end_encode(t.column("_page").combine_chunks())
        ends = runs.run_ends.to_pylist()
        starts = [0, *ends[:-1]] if ends else []
        spans[table] = {
            page: (start, stop - start) for page, start, stop in zip(runs.values.to_pylist(), starts, ends, strict=True)
        }

    def encode(page: int) -> tuple[int, int, bytes]:
        parts = []
        for table in tables:
            span = spans[table].get(page)
            if span is None:
                parts.append(_LEN.pack(0))
                continue
            msg = data[table].slice(*span).to_batches()[0].serialize().to_pybytes()
            parts += [_LEN.pack(len(msg)), msg]
        raw = b"".join(parts)
        return page, len(raw), _CODEC.compress(raw, asbytes=True)

    return pool.map(encode, sorted({p for runs in spans.values() for p in runs}))


class PersonStore:
    """Read-only look-ups of persons' history rows; one per evaluation context (not thread-safe)."""

    def __init__(self, path: Path | str, build_id: str):
        self.path = Path(path)
        if not self.path.exists():
            raise FundguardError(
                f"历史库缺少按人员索引文件 {self.path}（请重新执行 fundguard audit build-history）",
                f"history store sidecar missing: {self.path} (rerun fundguard audit build-history)",
            )
        self._lite = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(self._lite.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("build_id", b"").decode() != build_id:
            raise FundguardError(
                f"历史库与按人员索引文件 {self.path} 不是同一次构建（请重新执行 fundguard audit build-history）",
                f"history store and sidecar {self.path} come from different builds (rerun fundguard audit build-history)",
            )
        self.tables = meta["tables"].decode().split(",")
        self._shift = 64 - int(meta["bits"])
        self._schemas = {t: pa.ipc.read_schema(pa.py_buffer(meta[f"schema:{t}"])) for t in self.tables}

    def close(self) -> None:
        self._lite.close()

    def fetch(self, persons: Sequence[str]) -> dict[str, pa.Table]:
        """Every person table's rows for these persons (unknown persons have none), without ``_key``."""
        batches: dict[str, list[pa.RecordBatch]] = {t: [] for t in self.tables}
        pages = sorted({person_key(p) >> self._shift for p in persons})
        if pages:
            marks = ", ".join("?" * len(pages))
            for raw_size, data in self._lite.execute(f"SELECT raw_size, data FROM page WHERE page IN ({marks})", pages):
                raw = _CODEC.decompress(data, decompressed_size=raw_size)
                offset = 0
                for table in self.tables:
                    (n,) = _LEN.unpack_from(raw, offset)
                    offset += _LEN.size
                    if n:
                        batches[table].append(pa.ipc.read_record_batch(raw.slice(offset, n), self._schemas[table]))
                    offset += n
        wanted = pa.array(sorted(set(persons)), type=pa.string())
        out = {}
        for table in self.tables:
            rows = pa.Table.from_batches(batches[table], schema=self._schemas[table])
            out[table] = rows.filter(pc.is_in(rows.column("_key"), value_set=wanted)).drop_columns(["_key"])
        return out
