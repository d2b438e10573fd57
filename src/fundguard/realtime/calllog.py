"""The call log of the audit APIs: table `audit_calls` in a small SQLite file.

SQLite, not DuckDB: several server processes (uvicorn workers) append to the same file, which
SQLite's file locking allows (WAL mode, busy timeout) and a DuckDB file does not. Writes happen on
a background thread in batches, so logging never waits on the disk in the response path; `flush()`
waits until everything queued is written (tests, shutdown).
"""

from __future__ import annotations

import datetime as dt
import queue
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

DDL = """CREATE TABLE IF NOT EXISTS audit_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint TEXT NOT NULL,          -- settlement | prescription
  stage TEXT,                      -- 事中 | 事前
  msgid TEXT,
  infno TEXT,
  fixmedins_code TEXT,
  psn_no TEXT,                     -- a key, not personal information
  request_time TEXT NOT NULL,      -- UTC, ISO 8601 with microseconds
  response_time TEXT NOT NULL,
  duration_ms REAL NOT NULL,
  http_status INTEGER NOT NULL,
  infcode INTEGER NOT NULL,        -- 0 ok, -1 error
  n_lines INTEGER,
  n_violation INTEGER,             -- lines judged 违规项
  n_suspect INTEGER,               -- lines judged 涉及项
  n_pass INTEGER,                  -- lines judged 通过
  n_claim_findings INTEGER,
  violation_amount REAL,
  error TEXT,
  rules_run INTEGER,               -- rules the pass ran (the others could not fire on its claims)
  rule_codes TEXT                  -- their codes, space separated
)"""
# columns added after the first release: added to an existing file on open
LATER_COLUMNS = {"rules_run": "INTEGER", "rule_codes": "TEXT"}
INDEXES = (
    "CREATE INDEX IF NOT EXISTS audit_calls_time ON audit_calls (request_time)",
    "CREATE INDEX IF NOT EXISTS audit_calls_msgid ON audit_calls (msgid)",
)


@dataclass
class CallRecord:
    endpoint: str
    request_time: dt.datetime
    response_time: dt.datetime
    http_status: int
    infcode: int
    stage: str | None = None
    msgid: str | None = None
    infno: str | None = None
    fixmedins_code: str | None = None
    psn_no: str | None = None
    n_lines: int | None = None
    n_violation: int | None = None
    n_suspect: int | None = None
    n_pass: int | None = None
    n_claim_findings: int | None = None
    violation_amount: float | None = None
    error: str | None = None
    rules_run: int | None = None
    rule_codes: str | None = None

    @property
    def duration_ms(self) -> float:
        return round((self.response_time - self.request_time).total_seconds() * 1000, 3)


_COLS = (
    "endpoint",
    "stage",
    "msgid",
    "infno",
    "fixmedins_code",
    "psn_no",
    "request_time",
    "response_time",
    "duration_ms",
    "http_status",
    "infcode",
    "n_lines",
    "n_violation",
    "n_suspect",
    "n_pass",
    "n_claim_findings",
    "violation_amount",
    "error",
    "rules_run",
    "rule_codes",
)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(DDL)
    have = {r[1] for r in con.execute("PRAGMA table_info(audit_calls)")}
    for col, typ in LATER_COLUMNS.items():
        if col not in have:
            con.execute(f"ALTER TABLE audit_calls ADD COLUMN {col} {typ}")
    for stmt in INDEXES:
        con.execute(stmt)
    con.commit()
    return con


class CallLog:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        _connect(self.path).close()  # fail at start-up, not on the first call
        self._q: queue.Queue[CallRecord | None] = queue.Queue()
        self._thread = threading.Thread(target=self._writer, name="audit-calllog", daemon=True)
        self._thread.start()

    def record(self, rec: CallRecord) -> None:
        self._q.put(rec)

    def flush(self) -> None:
        self._q.join()

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)

    def _writer(self) -> None:
        con = _connect(self.path)
        sql = f"INSERT INTO audit_calls ({', '.join(_COLS)}) VALUES ({', '.join('?' for _ in _COLS)})"
        try:
            while True:
                first = self._q.get()
                batch = [first]
                while True:  # whatever else is queued goes into the same transaction
                    try:
                        batch.append(self._q.get_nowait())
                    except queue.Empty:
                        break
                records = [r for r in batch if r is not None]
                try:
                    if records:
                        con.executemany(sql, [_row(r) for r in records])
                        con.commit()
                finally:
                    for _ in batch:
                        self._q.task_done()
                if any(r is None for r in batch):
                    return
        finally:
            con.close()


def _row(r: CallRecord) -> list:
    d = asdict(r)
    d["request_time"] = r.request_time.isoformat(sep=" ")
    d["response_time"] = r.response_time.isoformat(sep=" ")
    d["duration_ms"] = r.duration_ms
    return [d[c] for c in _COLS]
