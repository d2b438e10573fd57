import threading

import duckdb
import pytest

from fundguard.engine.pool import Job, run_jobs


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    c.execute("CREATE TABLE src AS SELECT range AS x FROM range(1000)")
    c.execute("ATTACH ':memory:' AS work")
    c.execute("CREATE TABLE work.out (job VARCHAR, total BIGINT, thread VARCHAR)")
    yield c
    c.close()


def _job(key: str, expected: float = 0.0) -> Job:
    def run(c: duckdb.DuckDBPyConnection) -> None:
        # reads the main database and a TEMP view made by setup, appends to the shared attached database
        c.execute(
            "INSERT INTO work.out SELECT ?, sum(x) * max(k), ? FROM src, setup_view",
            [key, threading.current_thread().name],
        )

    return Job(key, run, expected)


def _setup(c: duckdb.DuckDBPyConnection) -> None:
    c.execute("CREATE OR REPLACE TEMP VIEW setup_view AS SELECT 2 AS k")


def test_every_job_runs_once_across_the_workers(con):
    _setup(con)
    run_jobs(con, [_job(f"j{i}") for i in range(12)], workers=2, setup=_setup)
    rows = con.execute("SELECT job, total, thread FROM work.out ORDER BY job").fetchall()
    assert sorted(r[0] for r in rows) == sorted(f"j{i}" for i in range(12))
    assert {r[1] for r in rows} == {2 * sum(range(1000))}
    # the jobs ran on the calling thread and the one extra worker only (which took which is up to timing)
    assert {r[2] for r in rows} <= {threading.current_thread().name, "fg-screen-0"}


def test_one_worker_runs_longest_first_on_the_calling_connection(con):
    _setup(con)
    order: list[str] = []
    jobs = [Job(k, lambda c, k=k: order.append(k), e) for k, e in [("a", 1.0), ("b", 3.0), ("c", 0.0), ("d", 3.0)]]
    run_jobs(con, jobs, workers=1, setup=_setup)
    assert order == ["b", "d", "a", "c"]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_is_raised_and_stops_the_pool(con, workers):
    _setup(con)
    ran: list[int] = []

    def boom(c: duckdb.DuckDBPyConnection) -> None:
        raise ValueError("rule failed")

    jobs = [Job("boom", boom, 10.0)] + [Job(f"j{i}", lambda c, i=i: ran.append(i)) for i in range(50)]
    with pytest.raises(ValueError, match="rule failed"):
        run_jobs(con, jobs, workers=workers, setup=_setup)
    if workers == 1:
        assert ran == []  # the failing job ran first (longest); nothing after it
