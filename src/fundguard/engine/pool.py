"""Several jobs of a DuckDB screen at once (rules, the visit fingerprints), each on its own connection.

Why: one rule's query keeps both cores busy only about 90 % of its time: planning, the single-threaded end of
a hash table or an aggregate, Python between rules. With two jobs running, the other fills those gaps
(docs/decisions/0018-two-rules-at-a-time.md).

A worker connection is `con.cursor()`: the same database instance with its own TEMP catalog, so `setup` gives
it the rule views. What the workers share (the shared relations, the run's findings, the fingerprints) lives
in a database attached to the instance for the run, which every connection of the instance sees. The calling
thread works too, on `con` itself. Jobs start longest first (`expected`, e.g. the last run's seconds), so that
no long job starts last and runs alone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb


@dataclass
class Job:
    key: str
    run: Callable[[duckdb.DuckDBPyConnection], None]
    expected: float = 0.0  # seconds; a hint for the order only


def run_jobs(
    con: duckdb.DuckDBPyConnection,
    jobs: list[Job],
    workers: int,
    setup: Callable[[duckdb.DuckDBPyConnection], None],
) -> None:
    """Run every job once, on `workers` connections at most; the first error stops the rest and is raised."""
    order = sorted(jobs, key=lambda j: -j.expected)  # stable: equal hints keep the given order
    if workers <= 1 or len(order) <= 1:
        for job in order:
            job.run(con)
        return
    todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in order:
        todo.put(job)
    errors: list[BaseException] = []
    stop = threading.Event()

    def work(c: duckdb.DuckDBPyConnection) -> None:
        while not stop.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                job.run(c)
            except BaseException as e:  # noqa: BLE001 — handed to the calling thread, which raises it
                errors.append(e)
                stop.set()
                return

    cursors: list[duckdb.DuckDBPyConnection] = []
    threads: list[threading.Thread] = []
    try:
        for _ in range(min(workers, len(order)) - 1):
            cursors.append(con.cursor())
            setup(cursors[-1])
        threads = [threading.Thread(target=work, args=(c,), name=f"fg-screen-{i}") for i, c in enumerate(cursors)]
        for t in threads:
            t.start()
        work(con)
        if errors:  # e.g. Ctrl-C or a failed rule on this thread: do not wait for the other rules to finish
            for c in cursors:
                c.interrupt()
        for t in threads:
            t.join()
    except BaseException:
        stop.set()  # e.g. Ctrl-C in the calling thread: stop the other queries before the connections close
        for c in cursors:
            c.interrupt()
        for t in threads:
            t.join()
        raise
    finally:
        for c in cursors:
            c.close()
    if errors:
        raise errors[0]
