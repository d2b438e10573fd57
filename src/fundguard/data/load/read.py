"""Reading one file into a temporary all-text table inside DuckDB (no Python loop over rows).

Every cell is read as text, trimmed, and '' becomes NULL, so that validation can say which cell failed
to convert instead of the reader stopping at the first bad value. File order is kept
(preserve_insertion_order), so `rowid + 1` is the 1-based data row named in problems.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fundguard.data.load.discover import SourceFile
from fundguard.data.load.result import Collector
from fundguard.data.load.tables import ident, literal
from fundguard.errors import Problem

DELIMITERS = (",", "\t", "|", ";")


@dataclass
class RawTable:
    source: SourceFile
    name: str  # temp table holding the text cells
    columns: list[str]  # schema columns present in the file
    extras: list[str]  # columns beyond the schema (kept as VARCHAR)
    rows: int


def _is_utf8(path: Path, probe: int = 1 << 20) -> bool:
    with path.open("rb") as f:
        head = f.read(probe)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _to_utf8(path: Path, tmpdir: Path) -> Path:
    """Stream-transcode a GB18030/GBK export (what many Chinese hospital systems write) to UTF-8."""
    out = tmpdir / path.name
    with path.open("rb") as fin, out.open("wb") as fout:
        dec = codecs.getincrementaldecoder("gb18030")()
        while chunk := fin.read(1 << 22):
            fout.write(dec.decode(chunk).encode("utf-8"))
        fout.write(dec.decode(b"", final=True).encode("utf-8"))
    return out


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """Delimiter and column names from the header line.

    The dialect is fixed from the header rather than sniffed from the data, so a ragged data line is an
    error naming its line instead of being mistaken for the header.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        line = f.readline().decode("utf-8-sig").rstrip("\r\n")
    delim = max(DELIMITERS, key=line.count)
    return delim, next(csv.reader([line], delimiter=delim), [])


def _relation(
    con: duckdb.DuckDBPyConnection, src: SourceFile, view: str, path: Path, rejects: str
) -> tuple[str, list[str], list[str]]:
    """A SQL relation over the file's cells, the header names, and the relation's names for those columns."""
    lit = literal(str(path))
    if src.kind == "csv":
        delim, header = _csv_header(path)
        names = [f"c{i}" for i in range(len(header))]
        cols = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
        rel = (
            f"read_csv({lit}, header = true, auto_detect = false, columns = {cols}, delim = {literal(delim)}, "
            "quote = '\"', escape = '\"', encoding = 'utf-8', strict_mode = true, "
            f"store_rejects = true, rejects_table = {literal(rejects)}, rejects_scan = {literal(rejects + '_scan')})"
        )
        return rel, header, names
    if src.kind == "parquet":
        rel = f"read_parquet({lit})"
    else:
        import pandas as pd  # small reference tables only

        con.register(view, pd.read_excel(path, dtype=str, engine="openpyxl"))
        rel = ident(view)
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    return rel, names, names


# DuckDB's reject reasons, as a 稽核 user would say them.
REJECT_REASONS = {
    "MISSING COLUMNS": ("列数少于表头", "fewer columns than the header"),
    "TOO MANY COLUMNS": ("列数多于表头", "more columns than the header"),
    "UNQUOTED VALUE": ("引号使用不规范", "badly quoted value"),
    "LINE SIZE OVER MAXIMUM": ("行过长", "line too long"),
    "INVALID ENCODING": ("编码无效（应为 UTF-8 或 GBK）", "invalid encoding (expected UTF-8 or GBK)"),
}


def _report_rejects(con: duckdb.DuckDBPyConnection, src: SourceFile, rejects: str, out: Collector) -> bool:
    """Lines the CSV parser could not split into the header's columns, one problem per line."""
    try:
        rows = con.execute(
            f"""SELECT count(*) OVER (), line - 1, error_type, csv_line FROM (
                    SELECT line, any_value(CAST(error_type AS VARCHAR)) AS error_type, any_value(csv_line) AS csv_line
                    FROM {rejects} GROUP BY line)
                ORDER BY line LIMIT {out.max_per_check}"""
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {rejects}")
        con.execute(f"DROP TABLE IF EXISTS {rejects}_scan")
    problems = []
    for _, row, kind, line in rows:
        zh, en = REJECT_REASONS.get(kind, ("无法解析", "cannot be parsed"))
        problems.append(
            Problem(
                src.name,
                f"CSV 格式错误：{zh}",
                f"CSV format error: {en}",
                row=int(row),
                value=(line or "").rstrip("\r\n"),
            )
        )
    if rows:
        out.add("csv_format", int(rows[0][0]), problems)
    return bool(rows)


def _file_error(src: SourceFile, err: Exception) -> Problem:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    zh = "文件无法读取（需为 UTF-8 或 GBK 编码、带表头的 CSV，或 Parquet / xlsx）"
    en = "file cannot be read (expected a UTF-8 or GBK CSV with a header row, Parquet or xlsx)"
    return Problem(src.name, f"{zh}：{text}", f"{en}: {text}")


def read_raw(
    con: duckdb.DuckDBPyConnection, src: SourceFile, prefix: str, out: Collector, infos: list[str]
) -> RawTable | None:
    """Copy the file into temp table `{prefix}raw_{table}`; None (with problems recorded) if unusable."""
    tmpdir: Path | None = None
    path = src.path
    try:
        if src.kind == "csv" and not src.name.lower().endswith(".gz") and not _is_utf8(path):
            tmpdir = Path(tempfile.mkdtemp(prefix="fundguard-load-"))
            try:
                path = _to_utf8(path, tmpdir)
            except UnicodeDecodeError:
                path = src.path  # neither UTF-8 nor GB18030: let the reader name the bad line
            else:
                infos.append(f"{src.name} 不是 UTF-8，按 GB18030/GBK 读取 / {src.name} read as GB18030/GBK")
        return _read(con, src, path, prefix, out, infos)
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _read(
    con: duckdb.DuckDBPyConnection, src: SourceFile, path: Path, prefix: str, out: Collector, infos: list[str]
) -> RawTable | None:
    table = src.table
    raw = f"{prefix}raw_{table.name}"
    view = f"{prefix}xlsx_{table.name}"
    rejects = f"{prefix}rejects_{table.name}"
    try:
        rel, header, names = _relation(con, src, view, path, rejects)
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's problem, reported as such
        out.one("file", _file_error(src, err))
        return None

    # Header names are matched case-insensitively (Oracle exports arrive in upper case).
    seen: dict[str, str] = {}  # normalised header name → the relation's column name
    unnamed: list[str] = []  # columns without a header name (a trailing delimiter, an Excel blank)
    for i, (h, name) in enumerate(zip(header, names, strict=True), start=1):
        key = h.strip().lower()
        if not key or (src.kind == "xlsx" and key.startswith("unnamed:")):
            key = f"_unnamed_{i}"
            unnamed.append(key)
        if key == "_row":
            out.one("header", Problem(src.name, "列名 _row 为保留名", "column name _row is reserved", field=key))
            return None
        if key in seen:
            out.one(
                "header",
                Problem(src.name, "表头中列名重复", "column appears twice in the header", field=key, value=h),
            )
            return None
        seen[key] = name
    missing = [c for c in table.required_columns if c not in seen]
    for c in missing:
        col = table.column(c)
        out.one(
            "header",
            Problem(
                src.name,
                f"缺少必填列 {c}（{col.zh}）",
                f"required column {c} is missing from the header",
                field=c,
            ),
        )
    if missing:
        return None

    known = set(table.column_names)
    columns = [c for c in table.column_names if c in seen]
    extras = [k for k in seen if k not in known]
    select = ", ".join(f"NULLIF(trim(CAST({ident(seen[k])} AS VARCHAR)), '') AS {ident(k)}" for k in seen)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS SELECT {select} FROM {rel}")
    except Exception as err:  # noqa: BLE001
        out.one("file", _file_error(src, err))
        return None
    finally:
        if src.kind == "xlsx":
            con.unregister(view)
    if src.kind == "csv" and _report_rejects(con, src, rejects, out):
        # Rejected lines are missing from the table, so its row numbers no longer match the file: stop here.
        con.execute(f"DROP TABLE {raw}")
        return None
    for key in unnamed:
        if con.execute(f"SELECT count({ident(key)}) FROM {raw}").fetchone()[0]:
            pos = key.rsplit("_", 1)[1]
            out.one(
                "header",
                Problem(src.name, f"第{pos}列没有列名，但有数据", f"column {pos} has data but no header name"),
            )
            con.execute(f"DROP TABLE {raw}")
            return None
        con.execute(f"ALTER TABLE {raw} DROP COLUMN {ident(key)}")
        infos.append(f"{src.name} 忽略无列名的空列 / {src.name}: ignored an empty column without a header name")
    extras = [e for e in extras if e not in unnamed]
    rows = int(con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0])
    return RawTable(src, raw, columns, extras, rows)
