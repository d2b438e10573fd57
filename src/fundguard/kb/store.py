"""Writing knowledge into the warehouse: kb_point, kb_imports and kb_name_code, one transaction per run.

Re-importing a file replaces the points that came from a file of the same name (kp_id is a stable hash,
so the same content gives the same ids); a run with any bad file writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from fundguard.errors import Problem, ValidationFailed
from fundguard.kb import importers
from fundguard.kb.types import KB_POINT_COLUMNS, KP_TYPES
from fundguard.warehouse import table_exists

_POINT_COLS = ", ".join(f"{c} {t}" for c, t in KB_POINT_COLUMNS.items())

DDL = [
    f"CREATE TABLE IF NOT EXISTS kb_point ({_POINT_COLS})",
    """CREATE TABLE IF NOT EXISTS kb_imports (
        kb_version VARCHAR, file VARCHAR, source_file VARCHAR, layout VARCHAR, rows INTEGER,
        effective DATE, imported_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS kb_name_code (
        item_name VARCHAR, med_list_codg VARCHAR, source_file VARCHAR, kb_version VARCHAR)""",
]

# NRDL rows are linked to codes after the maps of the same run are known.
_LATE_LAYOUTS = {"nrdl"}


def ensure_kb_tables(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in DDL:
        con.execute(stmt)


def _have_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """True when kb tables exist (creating them unless the connection is read-only)."""
    if all(table_exists(con, t) for t in ("kb_point", "kb_imports")):
        return True
    try:
        ensure_kb_tables(con)
        return True
    except duckdb.Error:
        return False


def builtin_paths() -> list[Path]:
    """The official files shipped in resources/reference plus every resources/curated/*.csv."""
    ref = importers.reference_dir()
    drg = ref / "chs-drg-1.1"
    paths = sorted((ref / "nhsa-liangku").glob("*.xlsx")) + [ref / "nrdl-2024" / "yao.xlsx"]
    paths += [drg / "ICD" / "ZD_INFO.dat", drg / "ICD" / "SS_INFO.dat"]
    paths += [drg / "DATA" / f"{n}.dat" for n in ("DRG", "CC", "MCC", "CCE")]
    curated = Path(str(resources.files("fundguard").joinpath("resources/curated")))
    if curated.is_dir():
        paths += sorted(curated.glob("*.csv"))
    return paths


def _version(paths: list[Path], now: dt.datetime) -> str:
    h = hashlib.sha1()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode())
        if p.exists():
            h.update(hashlib.sha1(p.read_bytes()).digest())
    return f"{now:%Y%m%dT%H%M%S}-{h.hexdigest()[:8]}"


def _stored_name_codes(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for name, codg in con.execute("SELECT item_name, med_list_codg FROM kb_name_code").fetchall():
        out[name].add(codg)
    return out


def _workbook(path: Path) -> list | None:
    from fundguard.kb.sheets import read_workbook

    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.exists():
        return None
    try:
        return read_workbook(path)
    except Exception:
        return None  # read_file reports it


def _previous_nrdl(con: duckdb.DuckDBPyConnection, in_run: set[str]) -> list[tuple[Path, dt.date | None]]:
    """NRDL files whose latest import is still in kb_point and whose file is still on disk."""
    rows = con.execute(
        """SELECT file, source_file, layout, effective FROM (
               SELECT *, row_number() OVER (PARTITION BY source_file ORDER BY imported_at DESC, kb_version DESC) AS k
               FROM kb_imports) WHERE k = 1 ORDER BY source_file"""
    ).fetchall()
    return [
        (Path(f), eff) for f, src, layout, eff in rows if layout == "nrdl" and src not in in_run and Path(f).is_file()
    ]


def read_all(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    effective: dt.date | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> tuple[list[importers.FileResult], list[Problem]]:
    """Read every file (maps and 两库 batches first, so NRDL names link through them)."""
    problems: list[Problem] = []
    names = [p.name for p in paths]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(
            Problem(
                file=dup,
                reason_zh="同一次导入中有两个同名文件（按文件名替换，无法区分）",
                reason_en="two files with the same name in one import (points are replaced by file name)",
            )
        )
    from fundguard.kb import nrdl

    books = {p: _workbook(p) for p in paths}
    late = [p for p in paths if books[p] and any(nrdl.is_nrdl(s) for s in books[p])]
    early = [p for p in paths if p not in late]
    results: list[importers.FileResult] = []
    codes: dict[str, set[str]] = _stored_name_codes(con)
    for name, cs in importers.builtin_name_codes().items():
        codes[name].update(cs)
    for p in early:
        if on_file:
            on_file(p)
        r = importers.read_file(p, effective, sheets=books[p])
        for name, codg in r.name_codes:
            codes[name].add(codg)
        results.append(r)
    frozen = {k: sorted(v) for k, v in codes.items()}
    for p in late:
        if on_file:
            on_file(p)
        results.append(importers.read_file(p, effective, name_codes=frozen, sheets=books[p]))
    for r in results:
        r.effective = effective
    if any(r.name_codes for r in results):
        # new 通用名→国标代码 pairs: re-link NRDL files imported earlier (read again from their recorded path)
        for p, eff in _previous_nrdl(con, {q.name for q in paths}):
            if on_file:
                on_file(p)
            r = importers.read_file(p, eff, name_codes=frozen)
            r.effective, r.relinked = eff, True
            results.append(r)
    results.sort(key=lambda r: paths.index(r.path) if r.path in paths else len(paths))
    for r in results:
        problems.extend(r.problems)
    return results, problems


def import_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[str | Path],
    effective: dt.date | None = None,
    now: dt.datetime | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> dict:
    """Import files in one transaction; returns {kb_version, files: [{file, layout, rows}], rows}.

    Raises ValidationFailed (bilingual, naming file[sheet], row, field, reason) and writes nothing when
    any file is bad.
    """
    ensure_kb_tables(con)
    paths = [Path(p) for p in paths]
    now = now or dt.datetime.now().replace(microsecond=0)
    version = _version(paths, now)
    results, problems = read_all(con, paths, effective, on_file)
    if problems:
        files = sorted({p.file for p in problems})
        raise ValidationFailed(
            f"知识库导入失败：{len(problems)} 处问题（{'、'.join(files[:5])}），知识库未作任何修改",
            f"knowledge import failed: {len(problems)} problems ({', '.join(files[:5])}); kb_point left unchanged",
            problems,
        )
    summary = {"kb_version": version, "files": [], "rows": 0}
    con.execute("BEGIN TRANSACTION")
    try:
        for r in results:
            df = r.points.copy()
            df["kb_version"] = version
            con.execute("DELETE FROM kb_point WHERE source_file = ?", [r.path.name])
            con.execute("DELETE FROM kb_name_code WHERE source_file = ?", [r.path.name])
            if len(df):
                con.register("_kb_new", df)
                con.execute(f"INSERT INTO kb_point SELECT {', '.join(KB_POINT_COLUMNS)} FROM _kb_new")
                con.unregister("_kb_new")
            if r.name_codes:
                nc = pd.DataFrame(sorted(set(r.name_codes)), columns=["item_name", "med_list_codg"])
                nc["source_file"] = r.path.name
                nc["kb_version"] = version
                con.register("_kb_nc", nc)
                con.execute(
                    "INSERT INTO kb_name_code SELECT item_name, med_list_codg, source_file, kb_version FROM _kb_nc"
                )
                con.unregister("_kb_nc")
            con.execute(
                "INSERT INTO kb_imports VALUES (?, ?, ?, ?, ?, ?, ?)",
                [version, str(r.path.resolve()), r.path.name, r.layout, len(df), r.effective, now],
            )
            summary["files"].append({"file": r.path.name, "layout": r.layout, "rows": len(df), "relinked": r.relinked})
            summary["rows"] += len(df)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return summary


def import_builtin(con: duckdb.DuckDBPyConnection, effective: dt.date | None = None) -> dict:
    return import_files(con, builtin_paths(), effective)


def summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Per kp_type counts with their sources and versions, and the import history."""
    if not _have_tables(con):
        return {"total": 0, "kp_types": [], "imports": []}
    types = []
    for kp_type, n, sources, versions in con.execute(
        """SELECT kp_type, count(*), list(DISTINCT source_file ORDER BY source_file),
                  list(DISTINCT kb_version ORDER BY kb_version)
           FROM kb_point GROUP BY kp_type ORDER BY kp_type"""
    ).fetchall():
        types.append(
            {
                "kp_type": kp_type,
                "name": KP_TYPES.get(kp_type, ("", ""))[0],
                "count": n,
                "sources": sources,
                "versions": versions,
            }
        )
    imports = [
        {"kb_version": v, "file": f, "layout": lay, "rows": r, "imported_at": str(t)}
        for v, f, lay, r, t in con.execute(
            "SELECT kb_version, source_file, layout, rows, imported_at FROM kb_imports ORDER BY imported_at, source_file"
        ).fetchall()
    ]
    total = sum(t["count"] for t in types)
    return {"total": total, "kp_types": types, "imports": imports}


def show(con: duckdb.DuckDBPyConnection, key: str, limit: int = 200) -> dict:
    """Points of a kp_type, or the points about a code / name (exact code, prefix points, or name)."""
    if not _have_tables(con):
        return {
            "key": key,
            "is_kp_type": key in KP_TYPES,
            "count": 0,
            "points": pd.DataFrame(columns=list(KB_POINT_COLUMNS)),
        }
    cols = ", ".join(KB_POINT_COLUMNS)
    if key in KP_TYPES:
        where, params = "kp_type = ?", [key]
    else:
        where = (
            "med_list_codg = ? OR related_codg = ? OR item_name = ? "
            "OR (code_prefix IS NOT NULL AND starts_with(?, code_prefix))"
        )
        params = [key, key, key, key]
    n = con.execute(f"SELECT count(*) FROM kb_point WHERE {where}", params).fetchone()[0]
    df = con.execute(
        f"SELECT {cols} FROM kb_point WHERE {where} ORDER BY kp_type, med_list_codg, source_file, source_row LIMIT {int(limit)}",
        params,
    ).df()
    for c in ("begndate", "enddate"):
        df[c] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in df[c]]
    return {"key": key, "is_kp_type": key in KP_TYPES, "count": int(n), "points": df}
