"""Shared fixtures: one SparkSession and one PostgreSQL server per test run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole run (start-up costs ~13 s)."""
    pytest.importorskip("pyspark")
    from fundguard.engine.spark_session import get_spark  # created by the engine

    conf = {
        # Each broadcast hash relation takes one memory page on the driver, 64 MB by default here (derived from the
        # driver memory), even for three rows, and is freed only after a GC lets the ContextCleaner drop it: a golden
        # plan with dozens of joins over the cases filled the 4 GB heap ("Not enough memory to build and broadcast
        # the table", seen late in whole runs). 1 MB pages kept the heap at most 0.63 GB after GC (was 1-2 GB).
        "spark.buffer.pageSize": "1m",
        # Golden cases are a few rows each: adaptive planning, whole-stage code generation and many shuffle
        # partitions cost more than they save there (measured ~35% faster per rule with these off).
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.shuffle.partitions": "1",
    }
    session = get_spark(master="local[2]", conf=conf)
    yield session
    session.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_url():
    """A throwaway PostgreSQL server in a temp dir (initdb as the postgres user; ~1 s)."""
    if os.environ.get("FUNDGUARD_TEST_PG_URL"):
        yield os.environ["FUNDGUARD_TEST_PG_URL"]
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bins:
        pytest.fail("PostgreSQL is not installed; run scripts/setup.sh (apt-get install postgresql)")
    pgbin = bins[-1]
    tmp = Path(tempfile.mkdtemp(prefix="fundguard-pg-"))
    runas: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        runas = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = tmp / "data"
    subprocess.run(
        [
            *runas,
            str(pgbin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *runas,
            str(pgbin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(tmp / "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*runas, str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "fundguard_test"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/fundguard_test"
    finally:
        subprocess.run(
            [*runas, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(tmp, ignore_errors=True)
