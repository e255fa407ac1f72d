"""Factories for storage-service tests: an app on in-memory SQLite, objects and a manual clock.

    env = make_storage_env()
    env.put("artifacts", "churn/1/model.npz", b"...")
    env.client.get("/api/v1/objects/artifacts/churn/1/model.npz")

The app uses the process's in-memory backends (fresh per test, see tests/conftest.py): the
object store of ``shared.backends.get_storage()`` and its bus, unless a test hands in others.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.storage.config import Settings
from services.storage.main import (
    Storage,
    build_session_factory,
    create_app,
    readiness_checks,
    wire,
)
from shared import backends
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.inprocess import ASGIBridgeTransport
from shared.clients.storage import StorageClient
from shared.events.base import EventBus
from shared.storage.base import ObjectStore
from shared.storage.bootstrap import ensure_buckets
from shared.storage.memory import InMemoryObjectStore
from tests.utils.asgi import LocalTestClient

MEMORY_URL = "sqlite+pysqlite:///:memory:"
# A write held up by another write of its key gives up after this long (the service waits 30 s).
LOCK_WAIT = 1.0
OCTET = {"Content-Type": "application/octet-stream"}
START = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # the night New York falls back


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def blob(size: int, seed: int = 1) -> bytes:
    """Return ``size`` deterministic bytes that differ with ``seed``."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@dataclass
class ManualClock:
    """An aware UTC clock that moves only when told."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)


class HookedStore(InMemoryObjectStore):
    """An in-memory store that runs ``after_put`` after each object write, and can fail."""

    def __init__(self) -> None:
        super().__init__()
        self.after_put: Callable[[str, str], None] | None = None
        self.fail_with: Exception | None = None
        self.puts: list[tuple[str, str]] = []

    def put(self, bucket: str, name: str, data: Any, **kwargs: Any) -> Any:
        """Write the object (or raise ``fail_with``), then run the hook."""
        if self.fail_with is not None:
            raise self.fail_with
        info = super().put(bucket, name, data, **kwargs)
        self.puts.append((bucket, name))
        if self.after_put is not None:
            hook, self.after_put = self.after_put, None
            hook(bucket, name)
        return info

    def names(self, bucket: str) -> list[str]:
        """Return every object name in a bucket."""
        return [info.name for info in self.list(bucket)]


@dataclass
class StorageEnv:
    """A storage app on a private in-memory database, with the handles tests need."""

    app: FastAPI
    client: TestClient
    store: ObjectStore
    clock: ManualClock
    session_factory: sessionmaker[Session]
    settings: Settings
    events: list[dict[str, Any]] = field(default_factory=list)

    def put(
        self, namespace: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> httpx.Response:
        """Upload one object through the API."""
        return self.client.put(
            f"/api/v1/objects/{namespace}/{key}",
            content=data,
            headers={"Content-Type": content_type},
        )

    def get(self, namespace: str, key: str, **kwargs: Any) -> httpx.Response:
        """Download one object through the API."""
        return self.client.get(f"/api/v1/objects/{namespace}/{key}", **kwargs)

    def open_session(self, namespace: str, key: str) -> str:
        """Open an upload session and return its id."""
        response = self.client.post("/api/v1/uploads", json={"namespace": namespace, "key": key})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def put_part(
        self, session_id: str, number: int, data: bytes, digest: str | None = None
    ) -> httpx.Response:
        """Upload one part with its SHA-256 (or the one given)."""
        return self.client.put(
            f"/api/v1/uploads/{session_id}/parts/{number}",
            content=data,
            headers={**OCTET, "X-Content-SHA256": digest or sha256(data)},
        )

    def complete(self, session_id: str, parts: int, digest: str) -> httpx.Response:
        """Complete an upload session."""
        return self.client.post(
            f"/api/v1/uploads/{session_id}/complete", json={"parts": parts, "sha256": digest}
        )

    def gc(self) -> list[str]:
        """Run garbage collection and return what it deleted."""
        response = self.client.post("/api/v1/gc")
        assert response.status_code == 200, response.text
        return list(response.json()["deleted"])


@lru_cache(maxsize=1)
def shared_app() -> FastAPI:
    """Return one storage app for the process; each test points it at its own state."""
    return create_app(Settings(database_url=MEMORY_URL), storage=InMemoryObjectStore)


def start_storage(
    settings: Settings,
    storage: Callable[[], ObjectStore],
    bus: Callable[[], EventBus],
    clock: Callable[[], datetime],
) -> tuple[FastAPI, sessionmaker[Session]]:
    """Run a storage start-up (schema, buckets) on fresh state and point the app at it.

    The app's routes are built once per process (the costly part); what a start-up does per
    deployment runs per call.
    """
    factory = build_session_factory(settings)
    ensure_buckets(storage())
    app = shared_app()
    wire(app, Storage(settings, factory, storage, bus, clock), readiness_checks(factory, storage))
    return app, factory


def make_storage_env(
    *,
    store: ObjectStore | None = None,
    bus: EventBus | None = None,
    clock: ManualClock | None = None,
    **overrides: Any,
) -> StorageEnv:
    """Start the storage app on a fresh in-memory database, store, bus and clock."""
    settings = Settings(
        **{"database_url": MEMORY_URL, "write_lock_wait_seconds": LOCK_WAIT, **overrides}
    )
    clock = clock or ManualClock()
    store = store if store is not None else backends.get_storage()
    bus_factory = (lambda: bus) if bus is not None else backends.get_bus
    app, factory = start_storage(settings, lambda: store, bus_factory, clock)
    return StorageEnv(app, LocalTestClient(app), store, clock, factory, settings)


def storage_client(app: FastAPI | httpx.BaseTransport) -> StorageClient:
    """Return a one-attempt storage client that reaches ``app`` in process."""
    transport = app if isinstance(app, httpx.BaseTransport) else ASGIBridgeTransport(app)
    return StorageClient(
        ServiceClient(
            "storage",
            discovery=StaticDiscovery({"storage": "http://storage"}),
            transport=transport,
            retry=RetryPolicy(max_attempts=1),
            sleep=lambda _: None,
        )
    )


def send_raw(
    app: FastAPI,
    method: str,
    raw_path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send one request with its path percent-decoded exactly once, as an HTTP server does.

    The test clients decode a path twice (httpx, then the ASGI bridge), which would hide how
    the service treats text that is still percent-encoded after the server's decoding.
    """
    path, _, query = raw_path.partition("?")
    sent = {"content-type": "application/octet-stream", **(headers or {})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("storage", 8012),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return httpx.Response(
        start["status"],
        headers=[(k.decode(), v.decode()) for k, v in start["headers"]],
        content=content,
    )


class BarrierTransport(httpx.BaseTransport):
    """Forward requests to an inner transport, ordering the writers' requests.

    Requests ``gate`` matches wait until ``parties`` of them arrived; requests ``serial``
    matches run one at a time (each writer's step completes before the next writer's starts).
    """

    def __init__(
        self,
        inner: httpx.BaseTransport,
        gate: Callable[[httpx.Request], bool],
        parties: int,
        serial: Callable[[httpx.Request], bool] = lambda _: False,
    ) -> None:
        self.inner = inner
        self.gate = gate
        self.serial = serial
        self.barrier = threading.Barrier(parties, timeout=5)
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Wait for the other writers at the gated request, then forward it."""
        if self.gate(request):
            self.barrier.wait()
        if self.serial(request):
            with self.lock:
                return self.inner.handle_request(request)
        return self.inner.handle_request(request)
