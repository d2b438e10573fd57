"""`load_dir`: read a folder of national tables, validate everything, then write it in one transaction."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import duckdb

from fundguard import warehouse
from fundguard.data import schema
from fundguard.data.load import cells, cross
from fundguard.data.load.discover import REQUIRED_TABLES, SourceFile, discover
from fundguard.data.load.read import read_raw
from fundguard.data.load.result import DEFAULT_MAX_PER_CHECK, Collector, LoadResult
from fundguard.data.load.tables import row_count
from fundguard.data.load.write import write
from fundguard.errors import FundguardError, Problem

# Progress callback: (description, steps done, steps total).
ProgressFn = Callable[[str, int, int], None]


def _file_sha256(path: Path, stop: threading.Event) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while (chunk := f.read(1 << 20)) and not stop.is_set():
            h.update(chunk)
    return h.hexdigest()


def _inputs_checksum(files: dict[str, SourceFile], stop: threading.Event) -> str:
    """sha256 over (table, sha256 of file) pairs: the same inputs give the same checksum wherever they lie."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}:{_file_sha256(files[name].path, stop)}\n".encode())
    return h.hexdigest()


def load_dir(
    path: str | Path,
    con_or_warehouse: duckdb.DuckDBPyConnection | str | Path | None = None,
    *,
    max_per_check: int = DEFAULT_MAX_PER_CHECK,
    on_progress: ProgressFn | None = None,
) -> LoadResult:
    """Load the national tables in folder `path` into the warehouse (a connection, a file path, or the configured one).

    Raises LoadValidationFailed (a ValidationFailed) listing file/row/field/reason when anything is wrong; then the
    warehouse is exactly as before. Loading the same keys again replaces them (one copy).
    """
    started = time.perf_counter()
    folder = Path(path)
    created: list[Path] = []  # a warehouse file this call creates is removed again if the load fails
    try:
        return _open_and_load(con_or_warehouse, folder, max_per_check, on_progress, started, created)
    except BaseException:
        for p in created:  # the connection is closed by now
            for f in (p, p.with_name(p.name + ".wal")):
                f.unlink(missing_ok=True)
        raise


def _open_and_load(
    con_or_warehouse: duckdb.DuckDBPyConnection | str | Path | None,
    folder: Path,
    max_per_check: int,
    on_progress: ProgressFn | None,
    started: float,
    created: list[Path],
) -> LoadResult:
    with ExitStack() as stack:
        if isinstance(con_or_warehouse, duckdb.DuckDBPyConnection):
            con, target = con_or_warehouse, "(connection)"
        else:
            p = warehouse.resolve_path(con_or_warehouse)
            if not p.exists():
                created.append(p)
            try:
                con = stack.enter_context(warehouse.session(p))
            except duckdb.IOException as err:
                raise FundguardError(
                    f"无法打开数据仓库 {p}（可能正被其他程序占用，如正在运行的 Web 服务）：{err}",
                    f"cannot open the warehouse {p} (another process may hold it, e.g. the web app): {err}",
                ) from err
            target = str(p)
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        # DuckDB's own progress bar would write into our stdout (and into --json output): ours is on stderr.
        was = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]
        con.execute("SET enable_progress_bar = false")
        try:
            return _load(con, folder, target, pool, max_per_check, on_progress, started)
        finally:
            con.execute(f"SET enable_progress_bar = {'true' if was else 'false'}")


def _load(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    target: str,
    pool: ThreadPoolExecutor,
    max_per_check: int,
    on_progress: ProgressFn | None,
    started: float,
) -> LoadResult:
    started_at = datetime.now()
    out = Collector(max_per_check)
    found = discover(folder)
    warnings, infos = list(found.warnings), list(found.infos)
    for p in found.problems:
        out.one("file", p)
    if not folder.is_dir():
        raise out.error(warnings, infos)
    for name in REQUIRED_TABLES:
        if name not in found.files and row_count(con, name) == 0:
            t = schema.table(name)
            out.one(
                "file",
                Problem(
                    f"{name}.csv",
                    f"缺少必需的表 {name}（{t.zh}）：仓库中尚无此表数据，首次加载必须提供",
                    f"required table {name} is missing: the warehouse has none yet, so the first load must supply it",
                ),
            )
    files = {n: found.files[n] for n in schema.LOAD_ORDER if n in found.files}
    # Hash the inputs on a second thread while DuckDB reads them (hashlib releases the GIL).
    stop = threading.Event()  # a rejected load need not wait for the hash of a file it will not write
    checksum: Future[str] = pool.submit(_inputs_checksum, files, stop)

    total_steps = 2 * len(files) + 2 + len(files)
    done = 0

    def step(desc: str) -> None:
        nonlocal done
        if on_progress:
            on_progress(desc, done, total_steps)
        done += 1

    prefix = f"_fg_load_{uuid.uuid4().hex[:8]}_"
    st = cross.Staged()
    extras: dict[str, list[str]] = {}
    row_counts: dict[str, int] = {}
    try:
        for name, src in files.items():
            step(f"读取 {src.name} / reading {src.name}")
            raw = read_raw(con, src, prefix, out, infos)
            if raw is None:
                step("")
                continue
            step(f"校验 {src.name} / checking {src.name}")
            cells.check_cells(con, raw, out)
            stage_name = f"{prefix}stg_{name}"
            cells.stage(con, raw, stage_name)
            con.execute(f"DROP TABLE {raw.name}")
            cells.check_primary_key(con, raw, stage_name, out)
            st.stages[name], st.files[name], st.columns[name] = stage_name, src.name, {*raw.columns, *raw.extras}
            extras[name] = raw.extras
            row_counts[name] = raw.rows
        step("跨表校验 / checking references and amounts")
        cross.check_references(con, st, out, warnings)
        cross.check_setl_amounts(con, st, out)
        cross.check_fee_amounts(con, st, out)
        step("核对结算与明细 / checking settlements against lines")
        cross.check_setl_lines(con, st, out)
        if out.failed:
            raise out.error(warnings, infos)
        run = {
            "run_id": f"{started_at:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}",
            "started_at": started_at,
            "source": str(folder.resolve()),
            "files": {n: s.name for n, s in files.items()},
            "row_counts": row_counts,
            "input_checksum": checksum.result(),
        }
        inserted, replaced = write(con, st.stages, extras, run, step)
    finally:
        stop.set()
        for stg in st.stages.values():
            con.execute(f"DROP TABLE IF EXISTS {stg}")
        for name in files:
            con.execute(f"DROP TABLE IF EXISTS {prefix}raw_{name}")
    if on_progress:
        on_progress("完成 / done", total_steps, total_steps)
    return LoadResult(
        run_id=run["run_id"],
        source=run["source"],
        warehouse=target,
        files=run["files"],
        row_counts=row_counts,
        inserted=inserted,
        replaced=replaced,
        extra_columns={k: v for k, v in extras.items() if v},
        input_checksum=run["input_checksum"],
        seconds=time.perf_counter() - started,
        warnings=warnings,
        infos=infos,
    )
