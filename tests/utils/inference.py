"""Inference test helpers: artifacts, a scripted registry, hostile files and a wired app."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.inference.config import Settings
from services.inference.main import ModelServer, create_app
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.registry import RegistryClient
from shared.ml.model_loader import ModelArtifact, load_model, save_model

FEATURES = ["tenure", "spend", "calls"]
# The registry's route of one version: /api/v1/registered-models/<name>/versions/<n>.
VERSION_ROUTE = ["api", "v1", "registered-models", "versions"]
ROWS = [
    {"tenure": 1.0, "spend": 20.0, "calls": 0.0},
    {"tenure": 24.0, "spend": 80.5, "calls": 3.0},
    {"tenure": 7.0, "spend": 5.0, "calls": 9.0},
]


def make_artifact(kind: str = "logistic", *, seed: int = 0) -> ModelArtifact:
    """Return a small seeded model over FEATURES: "logistic", "linear" or "mlp"."""
    rng = np.random.default_rng(seed)
    norm = {"mean": [10.0, 40.0, 2.0], "std": [8.0, 30.0, 3.0]}
    if kind in ("logistic", "linear"):
        weights = {"W": rng.normal(size=3).astype(np.float32), "b": np.float32(rng.normal())}
        return ModelArtifact(kind, weights, list(FEATURES), {"normalization": norm})
    weights = {
        "dense0.W": rng.normal(size=(3, 4)).astype(np.float32),
        "dense0.b": rng.normal(size=4).astype(np.float32),
        "dense1.W": rng.normal(size=(4, 3)).astype(np.float32),
        "dense1.b": rng.normal(size=3).astype(np.float32),
    }
    arch = {"hidden": [4], "n_outputs": 3, "output": "softmax"}
    return ModelArtifact("mlp", weights, list(FEATURES), {"architecture": arch})


def matrix(rows: list[dict[str, float]] = ROWS) -> np.ndarray:
    """Return rows as the float32 matrix a model expects, in FEATURES order."""
    return np.asarray([[r[f] for f in FEATURES] for r in rows], dtype=np.float32)


def trip(marker: str) -> str:
    """Write ``marker``: proof that an unpickled payload ran code."""
    Path(marker).write_text("payload ran")
    return "tripped"


class Payload:
    """An object whose unpickling calls ``trip`` (a stand-in for an attacker's code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (trip, (self.marker,))


def write_hostile_npz(path: Path, marker: Path, *, keys: tuple[str, ...] = ("w/W",)) -> Path:
    """Write an npz whose ``keys`` hold pickled object arrays that trip ``marker``."""
    arrays = {key: np.array([Payload(marker)], dtype=object) for key in keys}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return path


@dataclass
class FakeRegistry:
    """Registry double behind an httpx transport: versions, scripted answers, request log."""

    versions: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    health: list[int] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    # Statuses answered to the next version lookups instead of the record (an outage).
    lookup_failures: list[int] = field(default_factory=list)

    def add(self, name: str, version: int, artifact_uri: str, **fields: Any) -> dict[str, Any]:
        """Register a version record and return it."""
        record = {"name": name, "version": version, "stage": "Production"}
        record.update(artifact_uri=artifact_uri, **fields)
        self.versions[(name, version)] = record
        return record

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request like the registry's REST API."""
        path = request.url.path
        self.requests.append(path)
        if path == "/health":
            status = self.health.pop(0) if self.health else 200
            return httpx.Response(status, json={"service": "registry"})
        parts = path.strip("/").split("/")
        if len(parts) == 6 and parts[:3] + parts[4:5] == VERSION_ROUTE:
            if self.lookup_failures:
                status = self.lookup_failures.pop(0)
                return httpx.Response(status, json={"error": "unavailable", "detail": "restarting"})
            record = self.versions.get((parts[3], int(parts[5])))
            if record is not None:
                return httpx.Response(200, json=record)
        return httpx.Response(404, json={"error": "not_found", "detail": f"no {path}"})

    def client(self) -> RegistryClient:
        """Return a registry client that reaches this double, one attempt per request."""
        service = ServiceClient(
            "registry",
            discovery=StaticDiscovery({"registry": "http://registry"}),
            transport=httpx.MockTransport(self.handle),
            retry=RetryPolicy(max_attempts=1),
        )
        return RegistryClient(service)


class CountingLoader:
    """Wrap the real loader, counting calls per path; optional hook runs before loading."""

    def __init__(self, inner: Callable[..., ModelArtifact] = load_model) -> None:
        self.inner = inner
        self.calls: list[Path] = []
        self.before: Callable[[Path], None] | None = None

    def __call__(self, path: Path, expected_sha256: str | None = None, **kw: Any) -> ModelArtifact:
        self.calls.append(Path(path))
        if self.before is not None:
            self.before(Path(path))
        return self.inner(path, expected_sha256, **kw)


class SpyLock:
    """A lock that calls ``on_wait`` whenever a thread has to wait to enter it."""

    def __init__(self, on_wait: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._on_wait = on_wait

    def __enter__(self) -> SpyLock:
        if not self._lock.acquire(blocking=False):
            self._on_wait()
            self._lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


@dataclass
class InferenceEnv:
    """An inference app on a fake registry with artifacts under ``root``."""

    root: Path
    registry: FakeRegistry
    loader: CountingLoader
    sleeps: list[float]
    app: FastAPI

    @property
    def server(self) -> ModelServer:
        """Return the app's model server."""
        return self.app.state.server

    def publish(self, name: str, version: int, artifact: ModelArtifact, **fields: Any) -> Path:
        """Save ``artifact`` under the root and register it as ``name`` ``version``."""
        path = self.root / name / f"v{version}" / "model.npz"
        save_model(artifact, path)
        schema = {"features": list(artifact.input_schema)}
        fields.setdefault("input_schema", schema)
        self.registry.add(name, version, f"{name}/v{version}/model.npz", **fields)
        return path


def make_env(root: Path, *, health: list[int] | None = None, **settings: Any) -> InferenceEnv:
    """Build an inference app (not started) on a fake registry and a counting loader."""
    registry = FakeRegistry(health=list(health or []))
    loader = CountingLoader()
    sleeps: list[float] = []
    values = {"artifact_root": root, "readiness_attempts": 3, "readiness_backoff": 0.5}
    values.update(settings)
    hooks = {
        k: values.pop(k)
        for k in ("lock", "on_release", "clock", "features", "batch_waiter")
        if k in values
    }
    app = create_app(
        Settings(**values), registry.client(), loader=loader, sleep=sleeps.append, **hooks
    )
    return InferenceEnv(root, registry, loader, sleeps, app)


# Notified whenever a test event is set through ``announce``: a held model took its call, a
# background call returned, a load began. ``set_before`` stops waiting for one event as soon
# as the call it watches has ended without it, so a failing run does not sit out its bound.
_progress = threading.Condition()


def announce(event: threading.Event) -> None:
    """Set ``event`` and wake every ``set_before`` waiting on it."""
    with _progress:
        event.set()
        _progress.notify_all()


def set_before(event: threading.Event, done: threading.Event, timeout: float) -> bool:
    """Wait for ``event``; False as soon as ``done`` (the watched call ended) is set first.

    Both events must be set through ``announce``.
    """
    with _progress:
        _progress.wait_for(lambda: event.is_set() or done.is_set(), timeout)
    return event.is_set()


@contextmanager
def running(env: InferenceEnv) -> Iterator[TestClient]:
    """Start the app (its lifespan waits for the registry) and yield a client."""
    with TestClient(env.app) as client:
        yield client


# Request keys of model "churn" by the bucket they fall in (SHA-256 of "churn\x00<key>",
# first 8 bytes big-endian, modulo 10,000: the documented routing hash).
BUCKET_KEYS = {
    0: "customer-25451",
    2899: "customer-3957",
    2900: "customer-1086",
    3329: "customer-11304",
    3330: "customer-1431",
    4999: "customer-2265",
    5000: "customer-7",
    5699: "customer-44310",
    5700: "customer-14041",
    6659: "customer-25511",
    6660: "customer-20380",
    8999: "customer-4212",
    9000: "customer-9181",
    9899: "customer-9323",
    9900: "customer-15989",
    9999: "customer-12956",
}


def deploy_ok(client: TestClient, name: str, version: int) -> dict[str, Any]:
    """Deploy ``version`` of ``name`` through the API and return the deployment list."""
    response = client.post(f"/api/v1/deployments/{name}", json={"version": version})
    assert response.status_code == 200, response.text
    return response.json()


def split(client: TestClient, name: str, routes: dict[int, Any], **extra: Any) -> httpx.Response:
    """PUT the routing table ``{version: percent}`` (and ``extra`` fields) of ``name``."""
    body = {"routes": [{"version": v, "percent": p} for v, p in routes.items()], **extra}
    return client.put(f"/api/v1/deployments/{name}/routing", json=body)


def served_version(client: TestClient, name: str, key: str | None, rows: Any = None) -> int:
    """Predict for request ``key`` and return the version that served it (asserting 200)."""
    body: dict[str, Any] = {"instances": rows or ROWS[:1]}
    if key is not None:
        body["key"] = key
    response = client.post(f"/api/v1/models/{name}/predict", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


class RecordingArtifact(ModelArtifact):
    """A model that records how many rows each of its predict calls received."""

    def record(self) -> RecordingArtifact:
        self.calls: list[int] = []
        return self

    def predict(self, X):
        self.calls.append(len(X))
        return super().predict(X)


def recording(seed: int) -> RecordingArtifact:
    """Return a seeded linear model over FEATURES that records its calls."""
    plain = make_artifact("linear", seed=seed)
    return RecordingArtifact(plain.kind, plain.weights, plain.input_schema, plain.metadata).record()


def load_instead(env: InferenceEnv, models: dict[tuple[str, int], ModelArtifact]) -> None:
    """Make the app load ``models`` by (name, version) instead of the published files."""
    real = env.loader.inner

    def loader(path: Path, expected_sha256: str | None = None, **kw: Any) -> ModelArtifact:
        found = models.get((path.parent.parent.name, int(path.parent.name[1:])))
        return found or real(path, expected_sha256, **kw)

    env.loader.inner = loader


class HeldWaiter:
    """Batch waiter for tests: each bounded wait lasts until its batch fills.

    The test ends a wait early by setting the event it was handed (the bound running out);
    ``waits`` holds those events and ``timeouts`` the bounds asked for, in order.
    """

    def __init__(self, bound: float = 5.0) -> None:
        self.bound = bound
        self.waits: list[threading.Event] = []
        self.timeouts: list[float] = []
        self._started = threading.Semaphore(0)
        self._seen = 0

    def __call__(self, full: threading.Event, timeout: float) -> bool:
        self.timeouts.append(timeout)
        self.waits.append(full)
        self._started.release()
        assert full.wait(self.bound), "the batch never filled and the test never ended its wait"
        return True

    def gathering(self) -> threading.Event:
        """Return the event of the next batch that starts waiting for companions."""
        assert self._started.acquire(timeout=self.bound), "no batch started waiting"
        self._seen += 1
        return self.waits[self._seen - 1]


class LapsingWaiter:
    """Batch waiter for tests: every bound runs out at once, with no companion arriving."""

    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def __call__(self, full: threading.Event, timeout: float) -> bool:
        self.timeouts.append(timeout)
        return full.is_set()
