"""Helpers of the live lane: per-run unique names, per-run database schemas, a tiny HTTP server
with a /health page and an ASGI app served by uvicorn on a loopback port (real HTTP, in this
process)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn
from sqlalchemy import text

from shared.db import make_engine
from shared.infra_settings import InfraSettings, sqlalchemy_url

RUN = uuid.uuid4().hex[:8]
# The Celery queue the live pipeline worker (infra/tests/live/pipeline_worker.py) consumes.
PIPELINE_QUEUE_VARIABLE = "SYNAPSE_LIVE_PIPELINE_QUEUE"
_counter = itertools.count()


def unique(prefix: str) -> str:
    """Return a name unique to this run and call, e.g. "synapse-t-1a2b3c4d-7"."""
    return f"{prefix}-{RUN}-{next(_counter)}"


@contextmanager
def private_schema(settings: InfraSettings, alias: str, prefix: str) -> Iterator[str]:
    """Create a schema of this run in a logical database; yield a URL that uses only it.

    A service whose jobs scan whole tables (garbage collection) sees only this run's rows,
    and dropping the schema afterwards removes every row the run made.
    """
    schema = unique(prefix).replace("-", "_")
    base = sqlalchemy_url(settings.database_url(alias))
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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


class UvicornThread:
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, app: Any) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        """Return the base URL the app answers on."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start serving the app within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()
