"""A small web service on 127.0.0.1 for probe tests: each path answers from a script
(for example 503 twice, then 200 with a JSON body)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Service:
    """Answers each path from a script: the first entries once each, the last for ever."""

    def __init__(self) -> None:
        self.scripts: dict[str, list[tuple[int, bytes, float]]] = {}
        self.hits: dict[str, int] = {}
        self.headers: list[dict[str, str]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?")[0]
                service.headers.append(dict(self.headers.items()))
                n = service.hits.get(path, 0)
                service.hits[path] = n + 1
                script = service.scripts.get(path, [(404, b"not found", 0.0)])
                status, body, delay = script[min(n, len(script) - 1)]
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def script(self, path: str, *answers: tuple[int, Any] | tuple[int, Any, float]) -> str:
        self.scripts[path] = [
            (
                a[0],
                a[1] if isinstance(a[1], bytes) else json.dumps(a[1]).encode(),
                a[2] if len(a) > 2 else 0.0,
            )  # type: ignore[misc]
            for a in answers
        ]
        return self.url(path)


@pytest.fixture(name="service")
def service_fixture() -> Iterator[Service]:
    s = Service()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()
