"""Reading one file into a temporary all-text table inside DuckDB (no Python loop over rows).

Every cell is read as text, trimmed, and '' becomes NULL, so that validation can say which cell failed
to convert instead of the reader stopping at the first bad value. File order is kept
(preserve_insertion_order), so `rowid + 1` is the 1-based data row named in problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from fundguard.data.load.discover import SourceFile
from fundguard.data.load.result import Collector
from fundguard.data.load.tables import ident, literal
from fundguard.errors import Problem


@dataclass
class RawTable:
    source: SourceFile
    name: str  # temp table holding the text cells
    columns: list[str]  # schema columns present in the file
    extras: list[str]  # columns beyond the schema (kept as VARCHAR)
    rows: int


def _relation(con: duckdb.DuckDBPyConnection, src: SourceFile, view: str) -> str:
    """A SQL relation over the file's cells (for xlsx, a registered pandas frame)."""
    path = literal(str(src.path))
    if src.kind == "csv":
        return f"read_csv({path}, all_varchar = true, header = true, encoding = 'utf-8')"
    if src.kind == "parquet":
        return f"read_parquet({path})"
    import pandas as pd  # small reference tables only

    frame = pd.read_excel(src.path, dtype=str, engine="openpyxl")
    con.register(view, frame)
    return ident(view)


def _file_error(src: SourceFile, err: Exception) -> Problem:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    zh = "文件无法读取（需为 UTF-8 编码、带表头的 CSV，或 Parquet / xlsx）"
    en = "file cannot be read (expected a UTF-8 CSV with a header row, Parquet or xlsx)"
    return Problem(src.name, f"{zh}：{text}", f"{en}: {text}")


def read_raw(con: duckdb.DuckDBPyConnection, src: SourceFile, prefix: str, out: Collector) -> RawTable | None:
    """Copy the file into temp table `{prefix}raw_{table}`; None (with problems recorded) if unusable."""
    table = src.table
    raw = f"{prefix}raw_{table.name}"
    view = f"{prefix}xlsx_{table.name}"
    try:
        rel = _relation(con, src, view)
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    except Exception as err:  # noqa: BLE001 - any reader failure is the file's problem, reported as such
        out.one("file", _file_error(src, err))
        return None

    # Header names are matched case-insensitively (Oracle exports arrive in upper case).
    seen: dict[str, str] = {}
    for h in header:
        key = h.strip().lower()
        if key in seen:
            out.one(
                "header",
                Problem(src.name, "表头中列名重复", "column appears twice in the header", field=key, value=h),
            )
            return None
        seen[key] = h
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
    rows = int(con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0])
    return RawTable(src, raw, columns, extras, rows)
