"""Helpers of the live lane: per-run unique names and a tiny HTTP server with a /health page."""

from __future__ import annotations

import itertools
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RUN = uuid.uuid4().hex[:8]
# The Celery queue the live pipeline worker (infra/tests/live/pipeline_worker.py) consumes.
PIPELINE_QUEUE_VARIABLE = "SYNAPSE_LIVE_PIPELINE_QUEUE"
_counter = itertools.count()


def unique(prefix: str) -> str:
    """Return a name unique to this run and call, e.g. "synapse-t-1a2b3c4d-7"."""
    return f"{prefix}-{RUN}-{next(_counter)}"


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/health" else 404
        body = b'{"status": "ok"}' if status == 200 else b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class HealthServer:
    """A loopback HTTP server answering 200 on /health, 404 elsewhere (a service instance)."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> HealthServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
