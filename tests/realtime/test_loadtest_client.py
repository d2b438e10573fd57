"""The load-test client always returns one record per planned request, even against a server that never
answers in time: saturation shows as errors, never as a hung run."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fundguard.realtime.loadtest import fire


class _SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(2)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"infcode": 0}')

    def log_message(self, *args) -> None:
        pass


def test_fire_counts_timeouts_and_overload_instead_of_hanging():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        results = asyncio.run(fire(url, [{"x": 1}], rps=20, duration=1, timeout=0.3, max_in_flight=2))
    finally:
        server.shutdown()
    assert [r["i"] for r in results] == list(range(20))
    assert not any(r["ok"] for r in results)  # the server needs 2 s, the client waits 0.3 s
    assert {r["error"] for r in results} <= {"TimeoutError", "client_overload", "ReadTimeout", "deadline"}
