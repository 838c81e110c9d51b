"""A local stand-in for a Slack/Teams/generic webhook on 127.0.0.1: it records every POST
and answers with the statuses it is told to (or hangs, to make the client time out)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_PATH = "/services/T000/B000/s3cr3tXYZ"


class FakeWebhook:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.replies: list[int | str] = []
        """Statuses for the next requests, in order (then 200); "hang" sleeps 1 s first."""
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeWebhook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = hook.replies.pop(0) if hook.replies else 200
                hook.paths.append(self.path)
                if reply == "hang":
                    time.sleep(1.0)
                    reply = 200
                if self.path != SECRET_PATH:
                    reply = 404
                elif reply == 200:
                    hook.posts.append(json.loads(body))
                text = b"ok" if reply == 200 else f"error at {self.path}".encode()
                try:
                    self.send_response(int(reply))
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:  # the client gave up waiting (timeout tests)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{SECRET_PATH}"
