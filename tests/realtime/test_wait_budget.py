"""The wait budget: a claim still queued after FUNDGUARD_AUDIT_MAX_WAIT_MS is answered "busy" at once (503),
never judged late; a claim in a pass is judged. No timing assumptions: the pass ahead is held by an Event."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from fundguard.errors import FundguardError
from fundguard.realtime.api import DEFAULT_MAX_WAIT_MS, AuditService, parse_max_wait_ms
from fundguard.realtime.batcher import AuditBusy, Batcher
from fundguard.realtime.context import ClaimRows


class _HeldPass:
    """An auditor whose passes wait until the test releases them; records who was judged."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.judged: list[list[str]] = []

    def evaluate(self, stage: str, claims: list[ClaimRows]) -> list[str]:
        self.judged.append([c.psn_no for c in claims])
        self.started.set()
        self.release.wait(30)
        return [f"judged {c.psn_no}" for c in claims]


def _claim(psn_no: str) -> ClaimRows:
    return ClaimRows(psn_no, "H00000000001", f"S-{psn_no}", f"M-{psn_no}", dt.date(2025, 3, 4), {})


@contextmanager
def _pass_in_progress(max_batch: int) -> Iterator[tuple[_HeldPass, Batcher]]:
    """A batcher with one worker, held in the pass of claim A (no budget while A is taken); on leaving, A's
    pass is released and A must have been judged."""
    held = _HeldPass()
    batcher = Batcher(held, workers=1, max_batch=max_batch)
    try:
        with ThreadPoolExecutor(1) as ex:
            first = ex.submit(batcher.submit, "事中", _claim("A"))
            assert held.started.wait(30)  # A's pass holds the only worker
            yield held, batcher
            held.release.set()
            assert first.result(30) == "judged A"  # a claim in a pass is always judged
    finally:
        held.release.set()
        batcher.stop()


def test_a_claim_still_queued_after_the_budget_is_answered_busy_and_never_judged():
    with _pass_in_progress(max_batch=8) as (held, batcher):
        batcher.max_wait = 0.05
        with pytest.raises(AuditBusy) as busy:
            batcher.submit("事中", _claim("B"))
    assert "排队超过 50 毫秒" in busy.value.zh and "事后审核" in busy.value.zh and "busy" in busy.value.en
    assert held.judged == [["A"]] and batcher._pending == []  # B left the queue, no pass saw it


def test_busy_is_a_503_in_the_national_error_shape_and_logged(client, auditor, message, monkeypatch):
    async def busy(*args, **kwargs):
        raise AuditBusy(2.0)

    monkeypatch.setattr(auditor, "audit_async", busy)  # the client's service judges with this auditor
    r = client.post("/api/v1/audit/settlement", json=message)
    assert r.status_code == 503
    body = r.json()
    assert body["infcode"] == -1 and body["output"] is None and body["inf_refmsgid"] == message["msgid"]
    assert "审核繁忙" in body["err_msg"] and "2000 毫秒" in body["err_msg"]
    client.calllog.flush()
    con = sqlite3.connect(str(client.calllog.path))
    row = con.execute("SELECT http_status, infcode, error FROM audit_calls ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    assert row[0] == 503 and row[1] == -1 and "audit busy" in row[2]


def test_wait_budget_setting(monkeypatch):
    assert parse_max_wait_ms(None) == parse_max_wait_ms("  ") == DEFAULT_MAX_WAIT_MS
    assert parse_max_wait_ms("0") == 0 and parse_max_wait_ms("350") == 350
    for bad in ("-1", "soon"):
        with pytest.raises(FundguardError) as e:
            parse_max_wait_ms(bad)
        assert "FUNDGUARD_AUDIT_MAX_WAIT_MS" in e.value.zh and e.value.problems[0].value == bad
    monkeypatch.setenv("FUNDGUARD_AUDIT_MAX_WAIT_MS", "0")
    assert AuditService(history="x.duckdb").max_wait_ms == 0


async def _until(condition, tries: int = 1000) -> None:
    """Let the event loop run until `condition()` holds (no sleeping on the clock)."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def test_waiting_requests_hold_no_thread_and_share_passes_up_to_max_batch():
    """100 async callers queue behind a held pass without a thread each, then fill passes of max_batch."""
    with _pass_in_progress(max_batch=64) as (held, batcher):

        async def callers() -> list[str]:
            tasks = [asyncio.create_task(batcher.submit_async("事中", _claim(f"P{i:03d}"))) for i in range(100)]
            await _until(lambda: len(batcher._pending) == 100)
            held.release.set()
            return await asyncio.gather(*tasks)

        answers = asyncio.run(callers())
    assert answers == [f"judged P{i:03d}" for i in range(100)]
    assert [len(p) for p in held.judged] == [1, 64, 36]  # the queue, not a thread pool, sets the pass size


def test_async_caller_past_the_budget_is_busy_and_a_cancelled_caller_leaves_the_queue():
    with _pass_in_progress(max_batch=8) as (held, batcher):

        async def scenario() -> None:
            gone = asyncio.create_task(batcher.submit_async("事中", _claim("GONE")))
            await _until(lambda: len(batcher._pending) == 1)
            gone.cancel()
            with pytest.raises(asyncio.CancelledError):
                await gone
            assert batcher._pending == []  # the disconnected caller's claim is not judged
            batcher.max_wait = 0.05
            with pytest.raises(AuditBusy):
                await batcher.submit_async("事中", _claim("LATE"))

        asyncio.run(scenario())
    assert held.judged == [["A"]]


def test_serve_refuses_a_negative_wait_by_its_option_name(tiny_store, monkeypatch):
    from typer.testing import CliRunner

    from fundguard.cli.main import app

    monkeypatch.delenv("FUNDGUARD_AUDIT_MAX_WAIT_MS", raising=False)
    r = CliRunner().invoke(app, ["audit", "serve", "--history", str(tiny_store), "--max-wait-ms", "-3"])
    assert r.exit_code != 0 and isinstance(r.exception, FundguardError)
    assert "--max-wait-ms" in r.exception.zh and "不小于 0" in r.exception.zh
