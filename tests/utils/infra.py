"""Test helpers for the infrastructure adapters: a manual clock, sample data and client fakes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from shared.cache.memory import InMemoryCache
from shared.clients.consul import InMemoryServiceRegistry, ServiceRegistration
from shared.search.memory import InMemorySearchIndex
from shared.storage.memory import InMemoryObjectStore

MIB = 1024 * 1024


class ManualClock:
    """Monotonic-seconds clock that moves only when advanced."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def clear_infra_env(monkeypatch) -> None:
    """Remove every SYNAPSE_* variable InfraSettings reads, so its defaults apply."""
    from shared.infra_settings import InfraSettings

    for name in InfraSettings.model_fields:
        monkeypatch.delenv(f"SYNAPSE_{name.upper()}", raising=False)


def payload(size: int, seed: int = 7) -> bytes:
    """Return size deterministic, non-repeating-looking bytes (SHA-256 counter stream)."""
    block = b"".join(hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(2048))
    return (block * (size // len(block) + 1))[:size]


def model_document(name: str, **overrides: Any) -> dict[str, Any]:
    """Return a document of the models index."""
    document = {
        "name": name,
        "description": f"Model {name} for fraud detection on card payments",
        "tags": ["fraud", "payments"],
        "task": "classification",
        "owner": "risk-team",
        "created_at": "2024-03-10T06:30:00Z",
        "updated_at": "2024-03-10T06:30:00Z",
    }
    document.update(overrides)
    return document


def registration(service: str = "registry", host: str = "10.0.0.5", port: int = 8003, **kw):
    """Return a ServiceRegistration with defaults for the registry service."""
    return ServiceRegistration(service, host, port, **kw)


def memory_store() -> InMemoryObjectStore:
    return InMemoryObjectStore()


def memory_search() -> InMemorySearchIndex:
    return InMemorySearchIndex()


def memory_registry(probe: Callable[[str], bool] | None = None) -> InMemoryServiceRegistry:
    return InMemoryServiceRegistry(probe)


def memory_cache(clock: ManualClock | None = None) -> InMemoryCache:
    return InMemoryCache(clock=clock or ManualClock())


class Recorder:
    """A stand-in for a client library object: records calls, answers from a table."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.answers = answers or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _RecordedPath(self, name)

    def called(self, path: str) -> list[tuple[tuple, dict]]:
        """Return the (args, kwargs) of every call to a dotted path such as 'indices.create'."""
        return [(args, kwargs) for name, args, kwargs in self.calls if name == path]


class _RecordedPath:
    def __init__(self, recorder: Recorder, path: str) -> None:
        self._recorder, self._path = recorder, path

    def __getattr__(self, name: str) -> _RecordedPath:
        return _RecordedPath(self._recorder, f"{self._path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._recorder.calls.append((self._path, args, kwargs))
        answer = self._recorder.answers.get(self._path)
        if isinstance(answer, BaseException):
            raise answer
        return answer(*args, **kwargs) if callable(answer) else answer


def write_result(etag: str) -> SimpleNamespace:
    """Return what minio's put_object answers."""
    return SimpleNamespace(etag=f'"{etag}"', version_id=None)
