"""Micro-batching: claims waiting while a pass of the rules runs are judged together in the next pass.

DuckDB plans every rule query again on each execution (it does not reuse plans of table-reading
prepared statements), and planning ~80 rule queries costs far more than running them on one
person's rows. One pass over several claims costs about as much as a pass over one, so under load
the waiting claims share a pass; with no load a claim runs alone, at once (no artificial delay).

A pass holds claims of distinct persons (each person's history appears once) and of one claim date
and stage (knowledge and parameters in force, rule set).

Wait budget: a counter cannot hold a patient for half a minute while an overloaded server works through
its queue. With ``max_wait`` set, a claim still waiting (not yet in a pass) after that many seconds is
taken out of the queue and answered at once with ``AuditBusy``; the caller proceeds as its rules allow and
the settlement is screened 事后 like every other. A claim already in a pass is always judged.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fundguard.errors import FundguardError

if TYPE_CHECKING:
    from fundguard.realtime.auditor import Auditor
    from fundguard.realtime.context import ClaimRows


class AuditBusy(FundguardError):
    """The claim waited longer than the wait budget without being judged (HTTP 503)."""

    def __init__(self, max_wait: float):
        ms = round(max_wait * 1000)
        super().__init__(
            f"事中审核繁忙：本笔结算排队超过 {ms} 毫秒未能审核，请按规定继续办理，该结算将纳入事后审核",
            f"audit busy: the claim waited over {ms} ms without being judged; proceed as your rules allow, "
            "batch screening will check it",
        )


@dataclass(eq=False)  # identity: the queue removes exactly this item
class _Item:
    stage: str
    claim: ClaimRows
    future: Future = field(default_factory=Future)


class Batcher:
    """Claims wait in one queue; `workers` threads each take the next pass's claims and evaluate them.

    Callers wait on a future, not a thread each: the async API awaits it (``submit_async``), so hundreds of
    claims can queue and share a pass, where a thread per waiting request had capped the queue at the
    server's thread pool (40) and kept passes small."""

    def __init__(self, auditor: Auditor, workers: int = 1, max_batch: int = 32, max_wait: float | None = None):
        self.auditor = auditor
        self.max_batch = max(1, max_batch)
        self.max_wait = max_wait if max_wait and max_wait > 0 else None  # seconds; None: wait as long as it takes
        self._cv = threading.Condition()
        self._pending: list[_Item] = []
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._loop, name=f"audit-batch-{i}", daemon=True) for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    def submit(self, stage: str, claim: ClaimRows) -> Any:
        """Judge one claim, blocking the calling thread (CLI, tests, replay)."""
        item = self._enqueue(stage, claim)
        try:
            return item.future.result(self.max_wait)
        except FutureTimeout:
            self._give_up(item)
            return item.future.result()

    async def submit_async(self, stage: str, claim: ClaimRows) -> Any:
        """Judge one claim without holding a thread while it waits (the HTTP API)."""
        item = self._enqueue(stage, claim)
        waiting = asyncio.wrap_future(item.future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), self.max_wait)
        except TimeoutError:
            self._give_up(item)
            return await waiting
        except asyncio.CancelledError:  # the caller went away (client disconnected): no pass for its claim
            self._withdraw(item)
            raise

    def _enqueue(self, stage: str, claim: ClaimRows) -> _Item:
        item = _Item(stage, claim)
        with self._cv:
            if self._stopping:
                raise RuntimeError("auditor is stopped")
            self._pending.append(item)
            self._cv.notify()
        return item

    def _give_up(self, item: _Item) -> None:
        """Past the wait budget: a claim still queued leaves the queue and is answered busy; one already taken
        into a pass is judged (both under the queue lock, so never both)."""
        if self._withdraw(item):
            raise AuditBusy(self.max_wait or 0)

    def _withdraw(self, item: _Item) -> bool:
        """Take a claim out of the queue if no pass has taken it yet."""
        with self._cv:
            if item in self._pending:
                self._pending.remove(item)
                return True
            return False

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(timeout=5)

    def _take(self) -> list[_Item]:
        """The oldest waiting claim and every other waiting claim that can share its pass."""
        first = self._pending[0]
        key = (first.stage, first.claim.as_of)
        batch: list[_Item] = []
        persons: set[str] = set()
        taken: set[int] = set()
        for item in self._pending:
            if len(batch) >= self.max_batch:
                break
            if (item.stage, item.claim.as_of) == key and item.claim.psn_no not in persons:
                taken.add(id(item))
                # a caller that went away (request cancelled) has cancelled its future: drop the claim
                if item.future.set_running_or_notify_cancel():
                    batch.append(item)
                    persons.add(item.claim.psn_no)
        self._pending = [i for i in self._pending if id(i) not in taken]
        return batch

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._stopping:
                    self._cv.wait()
                if self._stopping and not self._pending:
                    return
                batch = self._take()
            if not batch:
                continue
            try:
                outcomes = list(
                    zip(batch, self.auditor.evaluate(batch[0].stage, [i.claim for i in batch]), strict=True)
                )
            except BaseException as e:  # noqa: BLE001 - handed to every waiting caller
                for item in batch:
                    item.future.set_exception(e)
                continue
            for item, res in outcomes:
                # a claim-level error (unknown person …) is that caller's answer, not the pass's
                if isinstance(res, Exception):
                    item.future.set_exception(res)
                else:
                    item.future.set_result(res)
