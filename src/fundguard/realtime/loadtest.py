"""`fundguard audit loadtest`: the audit server in a subprocess, an open-loop request stream from this one.

Requests are real settlements of the history store (their persons' history is there), reshaped to
exactly N fee lines (lines of the person's settlement, repeated with new serial numbers when it has
fewer), sent at a fixed rate whatever the responses (open loop, so a slow server shows as latency,
not as a lower send rate). Bounded in count and time, loopback only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import httpx

from fundguard.realtime.history import open_store
from fundguard.realtime.replay import settlement_message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_messages(store: Path, n: int, lines: int, seed: int = 7) -> list[dict[str, Any]]:
    """n settlement messages of `lines` fee lines each, from persons of the store."""
    con = open_store(store)
    try:
        picked = con.execute(
            f"SELECT setl_id, psn_no FROM h.setl_d WHERE coalesce(refd_setl_flag, '0') = '0' "
            f"USING SAMPLE reservoir({int(n * 3)} ROWS) REPEATABLE ({int(seed)})"
        ).fetchall()
        ids = [r[0] for r in picked]
        persons = sorted({r[1] for r in picked})
        # copy the sampled persons' rows out of the store by the clustered key (a look-up by setl_id
        # would scan every row group)
        keys = con.execute("SELECT list(md5_number_upper(p)) FROM unnest(?) t(p)", [persons]).fetchone()[0]
        inl = ", ".join(str(int(k)) for k in keys)
        for table, col in (
            ("setl_d", "psn_no"),
            ("mdtrt_d", "psn_no"),
            ("fee_list_d", "psn_no"),
            ("diag_d", "_psn_no"),
            ("oprn_d", "_psn_no"),
        ):
            con.execute(
                f"CREATE TEMP TABLE s_{table} AS SELECT * FROM h.{table} WHERE _pk IN ({inl}) "
                f"AND list_contains(?, {col})",
                [persons],
            )
        out: list[dict[str, Any]] = []
        persons: set[str] = set()
        for sid in ids:
            m = settlement_message(con, sid, prefix="s_", msgid=f"LT{len(out):06d}")
            if m is None or not m["input"]["feedetail"]:
                continue
            psn = m["input"]["mdtrtinfo"]["psn_no"]
            if psn in persons:
                continue
            persons.add(psn)
            src = m["input"]["feedetail"]
            fee = []
            for i in range(lines):
                line = dict(src[i % len(src)])
                if i >= len(src):
                    line["feedetl_sn"] = f"{line['feedetl_sn']}-{i}"
                    line.pop("init_feedetl_sn", None)
                fee.append(line)
            m["input"]["feedetail"] = fee
            out.append(m)
            if len(out) >= n:
                break
        # Live traffic is settled "today": one settlement date for all (knowledge and parameters in force).
        today = max(m["inf_time"] for m in out) if out else None
        for m in out:
            m["inf_time"] = today
            m["input"]["setlinfo"] = {"setl_id": m["input"]["setlinfo"]["setl_id"], "setl_time": today}
        return out
    finally:
        con.close()


def start_server(history: Path, log: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, FUNDGUARD_AUDIT_HISTORY=str(history), FUNDGUARD_AUDIT_LOG=str(log))
    env.pop("FUNDGUARD_AUDIT_TOKEN", None)
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "fundguard.realtime.api:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"audit server exited: {err[-2000:]}")
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/audit/health", timeout=5)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("audit server did not become ready")


async def fire(
    url: str, messages: list[dict], rps: float, duration: float, timeout: float = 120, max_in_flight: int = 1000
) -> list[dict]:
    """Open loop: request i leaves at start + i/rps; returns one record per request, always.

    A request that would exceed `max_in_flight` open requests is not queued in the client (that would hide
    the server's saturation and stall the run) but counted as an error (`client_overload`); whatever is
    still open at duration + timeout is cancelled and counted as `deadline`."""
    n = int(rps * duration)
    results: dict[int, dict] = {}
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=min(200, max_in_flight))
    in_flight = 0
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        start = time.perf_counter()

        async def one(i: int) -> None:
            nonlocal in_flight
            await asyncio.sleep(max(0.0, start + i / rps - time.perf_counter()))
            body = messages[i % len(messages)]
            t0 = time.perf_counter()
            rec: dict[str, Any] = {"i": i, "sent": t0 - start}
            results[i] = rec
            if in_flight >= max_in_flight:
                rec.update(status=None, ok=False, error="client_overload", latency_ms=0.0)
                return
            in_flight += 1
            try:
                # a total deadline per request (httpx timeouts are per read), so a saturated server ends the run
                r = await asyncio.wait_for(client.post(url, json=body), timeout)
                rec["status"] = r.status_code
                rec["ok"] = r.status_code == 200 and r.json().get("infcode") == 0
            except (httpx.HTTPError, TimeoutError) as e:
                rec["status"], rec["ok"], rec["error"] = None, False, type(e).__name__
            finally:
                in_flight -= 1
            rec["latency_ms"] = (time.perf_counter() - t0) * 1000

        tasks = [asyncio.create_task(one(i)) for i in range(n)]
        _, pending = await asyncio.wait(tasks, timeout=duration + timeout + 10)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    for i in range(n):
        rec = results.setdefault(i, {"i": i, "sent": None})
        if "ok" not in rec or "latency_ms" not in rec:
            rec.update(status=None, ok=False, error="deadline", latency_ms=None)
    return [results[i] for i in range(n)]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(q / 100 * len(v) + 0.5)) - 1))
    return round(v[k], 1)


def server_side(log: Path) -> dict[str, Any]:
    """Durations the server logged (audit_calls), for comparison with the client's view."""
    import sqlite3

    if not log.exists():
        return {}
    con = sqlite3.connect(str(log))
    try:
        rows = [r[0] for r in con.execute("SELECT duration_ms FROM audit_calls WHERE http_status = 200")]
        rules = con.execute("SELECT avg(rules_run), min(rules_run), max(rules_run) FROM audit_calls").fetchone()
        busy = con.execute("SELECT count(*) FROM audit_calls WHERE http_status = 503").fetchone()[0]
    finally:
        con.close()
    return {
        "calls": len(rows),
        "busy": busy,  # answered 503 审核繁忙 by the wait budget
        # rules run by the pass each call was judged in (pruning skips those that cannot fire)
        "rules_run": {"mean": round(rules[0], 1) if rules[0] is not None else None, "min": rules[1], "max": rules[2]},
        "p50_ms": percentile(rows, 50),
        "p95_ms": percentile(rows, 95),
        "p99_ms": percentile(rows, 99),
    }


def run(
    history: Path,
    rps: float,
    duration: float,
    lines: int,
    workers: int,
    out_dir: Path,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log = out_dir / f"audit-calls-{stamp}.sqlite"
    messages = sample_messages(history, 400, lines)
    con = open_store(history)
    try:
        store_rows = {
            t: con.execute(f"SELECT count(*) FROM h.{t}").fetchone()[0] for t in ("psn_info", "setl_d", "fee_list_d")
        }
    finally:
        con.close()
    port = free_port()
    proc = start_server(history, log, port, workers)
    try:
        t0 = time.perf_counter()
        wait_ready(port, proc)
        startup = time.perf_counter() - t0
        url = f"http://127.0.0.1:{port}/api/v1/audit/settlement"
        # a short warm-up (not measured): first requests pay for lazy initialisation
        asyncio.run(fire(url, messages, 2, 3))
        load_before = os.getloadavg()
        results = asyncio.run(fire(url, messages, rps, duration))
        load_after = os.getloadavg()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    lat = [r["latency_ms"] for r in results if r["ok"]]
    answered = [r["latency_ms"] for r in results if r.get("status")]  # "busy" answers included
    errors = [r for r in results if not r["ok"]]
    # 503 = answered "busy" at once by the server's wait budget; client_overload/deadline = never answered
    error_kinds = Counter(str(e.get("status") or e.get("error")) for e in errors)
    report = {
        "kind": "audit-loadtest",
        "at": stamp,
        "command": " ".join(sys.argv),
        "target": {"rps": rps, "duration_s": duration, "lines_per_settlement": lines, "server_workers": workers},
        # server settings passed through the environment (defaults of AuditService when unset)
        "server_env": {
            k: os.environ.get(k)
            for k in (
                "FUNDGUARD_AUDIT_PARALLEL",
                "FUNDGUARD_AUDIT_PRUNE",
                "FUNDGUARD_AUDIT_MAX_BATCH",
                "FUNDGUARD_AUDIT_POOL",
                "FUNDGUARD_AUDIT_MAX_WAIT_MS",
                "FUNDGUARD_AUDIT_EXECUTOR",
            )
        },
        "store": {"path": str(history), "rows": store_rows},
        "requests": len(results),
        "ok": len(lat),
        "errors": len(errors),
        "error_kinds": sorted(error_kinds),
        "error_counts": dict(error_kinds.most_common()),
        "latency_ms": {
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "p99": percentile(lat, 99),
            "max": round(max(lat), 1) if lat else None,
            "mean": round(sum(lat) / len(lat), 1) if lat else None,
        },
        # every answered request, "busy" ones included: how long a counter waited for any answer
        "answered_latency_ms": {q: percentile(answered, int(q[1:])) for q in ("p50", "p95", "p99")},
        "server_logged": server_side(log),
        "server_startup_s": round(startup, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 1) for x in load_before],
            "loadavg_after": [round(x, 1) for x in load_after],
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        **(extra or {}),
    }
    path = out_dir / f"audit-{stamp}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    report["report_path"] = str(path)
    return report


def sequential(history: Path, n: int, lines: int, warm_up: int = 5) -> dict[str, Any]:
    """Idle latency: `n` settlements sent one at a time (each after the previous answer) to a server
    subprocess, after `warm_up` unmeasured calls; with the rules run per call from its call log."""
    import sqlite3
    import tempfile

    messages = sample_messages(history, n + warm_up, lines)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "calls.sqlite"
        port = free_port()
        proc = start_server(history, log, port, 1)
        lat: list[float] = []
        try:
            wait_ready(port, proc)
            url = f"http://127.0.0.1:{port}/api/v1/audit/settlement"
            with httpx.Client(timeout=300) as client:
                for i, body in enumerate(messages):
                    t0 = time.perf_counter()
                    r = client.post(url, json=body)
                    if r.status_code != 200 or r.json().get("infcode") != 0:
                        raise RuntimeError(f"audit call failed: {r.status_code} {r.text[:300]}")
                    if i >= warm_up:
                        lat.append((time.perf_counter() - t0) * 1000)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        con = sqlite3.connect(str(log))
        try:
            rules = con.execute("SELECT avg(rules_run), min(rules_run), max(rules_run) FROM audit_calls").fetchone()
        finally:
            con.close()
    return {
        "calls": len(lat),
        "latency_ms": {q: percentile(lat, int(q[1:])) for q in ("p50", "p95", "p99")},
        "rules_run": {"mean": round(rules[0], 1) if rules[0] is not None else None, "min": rules[1], "max": rules[2]},
        "loadavg": [round(x, 1) for x in os.getloadavg()],
    }
