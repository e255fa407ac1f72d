"""The platform slice in one process: registry, storage, training, inference and gateway, in order.

The experiments service and the feature store answer on the same transport (training records
runs and pulls training sets; inference reads online features).

Boot order is staged like a real start-up: the registry is still warming up (every request,
/health included, answers 503) when the inference service starts; inference's lifespan waits
for the registry with backed-off /health probes, and the registry finishes warming while it
waits (the warm-up runs on simulated time that only inference's injected sleeper advances).
Training and the gateway start afterwards. Every cross-service call goes through the platform
HTTP client with an in-process transport; artifacts live under ``tmp_path`` and, through the
storage service (its rows on in-memory SQLite, its objects in the process's in-memory store),
in object storage: training writes and inference fetches through the storage client.

    from tests.utils.platform import PLATFORM_DB, platform, rows  # noqa: F401 (fixture)
    from tests.utils.registry import registry_app, registry_db  # noqa: F401 (fixtures)

    pytestmark = [pytest.mark.inference, PLATFORM_DB]

    def test_flow(platform):
        trained = platform.train("churn")
        platform.promote("churn", trained.version)
        platform.deploy("churn", trained.version)
        body = platform.predict("churn", rows()).json()

Services answer from several threads (the gateway's worker threads call the registry), so the
registry needs real commits: ``PLATFORM_DB`` is ``django_db(transaction=True)`` on every alias.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.gateway.config import Settings as GatewaySettings
from services.gateway.main import create_app as create_gateway
from services.gateway.main import make_client_factory
from services.inference.config import Settings as InferenceSettings
from services.inference.main import ModelServer
from services.inference.main import create_app as create_inference
from services.storage.config import Settings as StorageSettings
from services.training.main import create_app as create_training
from shared.backends import get_bus, get_storage
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.experiments import ExperimentsClient
from shared.clients.features import FeaturesClient
from shared.clients.inprocess import ASGIBridgeTransport, InProcessTransport
from shared.clients.registry import RegistryClient
from shared.clients.storage import StorageClient, StorageServiceStore
from shared.ml.model_loader import ModelArtifact
from shared.ml.trainer import TrainResult, train
from shared.utils.distributed import InMemoryLockFactory
from shared.utils.timeutils import utcnow
from tests.utils.experiments import experiments_wsgi_app
from tests.utils.features import features_wsgi_app
from tests.utils.storage import LOCK_WAIT, MEMORY_URL, start_storage
from tests.utils.training import StepClock, TickingClock, training_settings

PLATFORM_DB = pytest.mark.django_db(databases="__all__", transaction=True)
SERVICES = ("registry", "training", "inference", "storage", "experiments", "features")
WARMUP_SECONDS = 1.0
N_FEATURES = 3
WARMING_BODY = json.dumps(
    {"error": "service_unavailable", "detail": "registry is starting: migrations running"}
).encode()


class WarmingUp:
    """WSGI wrapper: answer 503 to everything until ``warmup`` simulated seconds have passed."""

    def __init__(self, app: Any, warmup: float = WARMUP_SECONDS) -> None:
        self.app = app
        self.warmup = warmup
        self.elapsed = 0.0
        self.health_probes: list[int] = []

    @property
    def ready(self) -> bool:
        """Return whether the warm-up is over."""
        return self.elapsed >= self.warmup

    def sleep(self, seconds: float) -> None:
        """Let simulated time pass (the sleeper injected into the service that waits)."""
        self.elapsed += seconds

    def __call__(self, environ: dict, start_response: Any) -> Any:
        status = 200 if self.ready else 503
        if environ.get("PATH_INFO") == "/health":
            self.health_probes.append(status)
        if self.ready:
            return self.app(environ, start_response)
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [WARMING_BODY]


class RecordingTrainer:
    """The real trainer, keeping every result; ``fail_with`` makes the next jobs fail instead."""

    def __init__(self) -> None:
        self.results: list[TrainResult] = []
        self.fail_with: Exception | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> TrainResult:
        if self.fail_with is not None:
            raise self.fail_with
        result = train(*args, **kwargs)
        self.results.append(result)
        return result


@dataclass
class Trained:
    """A finished training job and the model it trained (kept in memory, never reloaded)."""

    job: dict[str, Any]
    artifact: ModelArtifact

    @property
    def version(self) -> int:
        """Return the registry version the job registered."""
        return int(self.job["model_version"])


class ServedApp(ASGIBridgeTransport):
    """An ASGI app running like a service process: one event loop, lifespan entered once."""

    def __init__(self, app: FastAPI, stack: ExitStack) -> None:
        super().__init__(app, raise_app_exceptions=True)
        self._portal = stack.enter_context(anyio.from_thread.start_blocking_portal())
        stack.enter_context(
            self._portal.wrap_async_context_manager(app.router.lifespan_context(app))
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for one request on the service's loop and return the read response."""
        request.read()
        return self._portal.call(self._send, request)


def client_for(service: str, transport: httpx.BaseTransport) -> ServiceClient:
    """Return a one-attempt client for ``service`` on the in-process transport."""
    return ServiceClient(
        service,
        discovery=StaticDiscovery({name: f"http://{name}" for name in SERVICES}),
        transport=transport,
        retry=RetryPolicy(max_attempts=1),
        sleep=lambda _: None,
    )


@dataclass
class Replica:
    """One more inference replica on the slice: its app and an HTTP client that reaches it."""

    app: FastAPI
    http: httpx.Client

    def deploy(self, name: str, version: int) -> httpx.Response:
        """Ask this replica to serve ``version`` of ``name``."""
        return self.http.post(f"/api/v1/deployments/{name}", json={"version": version})

    def predict(self, name: str, rows: list[dict[str, Any]]) -> httpx.Response:
        """Predict on this replica."""
        return self.http.post(f"/api/v1/models/{name}/predict", json={"instances": rows})


@dataclass
class Platform:
    """Handles on the running slice; tests drive it through the gateway."""

    root: Path
    registry: WarmingUp
    inference: FastAPI
    training: FastAPI
    gateway: TestClient
    trainer: RecordingTrainer
    transport: InProcessTransport
    stack: ExitStack
    storage_app: FastAPI | None = None
    sleeps: list[float] = field(default_factory=list)

    def object_store(self) -> StorageServiceStore:
        """Return the object-store port served by the slice's storage service."""
        return storage_port(self.transport)

    def start_replica(self) -> Replica:
        """Start another inference replica on the same registry, ports and artifact root."""
        app = create_inference(
            inference_settings(self.root),
            RegistryClient(client_for("registry", self.transport)),
            sleep=self.registry.sleep,
            storage=lambda: storage_port(self.transport),
        )
        served = ServedApp(app, self.stack)
        http = self.stack.enter_context(httpx.Client(transport=served, base_url="http://replica"))
        return Replica(app, http)

    @property
    def server(self) -> ModelServer:
        """Return the inference service's model server."""
        return self.inference.state.server

    def train(
        self,
        name: str,
        *,
        seed: int = 7,
        kind: str = "classification",
        n_samples: int = 64,
        dataset_offset: float = 0.0,
        **hyperparams: Any,
    ) -> Trained:
        """Run a training job through the gateway (Celery eager) and return it."""
        body = {
            "model_name": name,
            "dataset": {
                "kind": kind,
                "n_samples": n_samples,
                "n_features": N_FEATURES,
                "seed": seed,
                "offset": dataset_offset,
            },
            "hyperparams": {"lr": 0.2, "epochs": 3, "batch_size": 16, "seed": seed, **hyperparams},
        }
        accepted = self.gateway.post("/api/training/api/v1/jobs", json=body)
        assert accepted.status_code == 202, accepted.text
        job = self.gateway.get(f"/api/training/api/v1/jobs/{accepted.json()['id']}").json()
        assert job["status"] == "succeeded", job
        return Trained(job, self.trainer.results[-1].artifact)

    def promote(self, name: str, version: int) -> dict[str, Any]:
        """Move a version through Staging to Production in the registry."""
        url = f"/api/registry/api/v1/registered-models/{name}/versions/{version}/transition"
        for stage in ("Staging", "Production"):
            response = self.gateway.post(url, json={"stage": stage})
            assert response.status_code == 200, response.text
        return response.json()

    def version(self, name: str, version: int) -> dict[str, Any]:
        """Return the registry's record of one version."""
        response = self.gateway.get(
            f"/api/registry/api/v1/registered-models/{name}/versions/{version}"
        )
        assert response.status_code == 200, response.text
        return response.json()

    def deploy(self, name: str, version: int) -> httpx.Response:
        """Ask inference, through the gateway, to serve ``version`` of ``name``."""
        return self.gateway.post(
            f"/api/inference/api/v1/deployments/{name}", json={"version": version}
        )

    def predict(self, name: str, rows: list[dict[str, Any]]) -> httpx.Response:
        """Predict through the gateway."""
        return self.gateway.post(
            f"/api/inference/api/v1/models/{name}/predict", json={"instances": rows}
        )

    def artifact_path(self, name: str, version: int) -> Path:
        """Return the file a registered version's artifact_uri points at."""
        return Path(self.version(name, version)["artifact_uri"].removeprefix("file://"))


def rows(n: int = 12, *, seed: int = 11) -> list[dict[str, float]]:
    """Return seeded feature rows f0..f2 spread around the training blobs."""
    values = np.random.default_rng(seed).normal(scale=3.0, size=(n, N_FEATURES))
    return [{f"f{j}": float(v) for j, v in enumerate(row)} for row in values]


def reference_predictions(
    artifact: ModelArtifact, rows: list[dict[str, float]]
) -> tuple[list, list]:
    """Return (labels, P(label)) of a logistic model computed with plain numpy from its weights."""
    X = np.asarray([[r[f] for f in artifact.input_schema] for r in rows], dtype=np.float32)
    norm = artifact.metadata.get("normalization")
    if norm is not None:
        X = (X - np.asarray(norm["mean"], np.float32)) / np.asarray(norm["std"], np.float32)
    z = X @ artifact.weights["W"] + artifact.weights["b"]
    p1 = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    labels = (p1 >= float(artifact.metadata.get("threshold", 0.5))).astype(int)
    return labels.tolist(), np.where(labels == 1, p1, 1.0 - p1).tolist()


def inference_settings(root: Path) -> InferenceSettings:
    """Return the settings every inference replica of the slice starts with."""
    return InferenceSettings(
        artifact_root=root,
        registry_url="http://registry",
        readiness_attempts=8,
        readiness_backoff=0.25,
        readiness_max_backoff=2.0,
    )


def storage_port(transport: httpx.BaseTransport) -> StorageServiceStore:
    """Return the object-store port served by the storage service on ``transport``."""
    return StorageServiceStore(StorageClient(client_for("storage", transport)))


def boot(
    root: Path, registry_wsgi: Any, stack: ExitStack, storage_db: str = MEMORY_URL
) -> Platform:
    """Start registry → storage → inference (waits for the registry) → training → gateway.

    ``storage_db`` is the database of the storage service's rows (in-memory SQLite unless
    the live lane hands in its PostgreSQL).
    """
    warming = WarmingUp(registry_wsgi)
    transport = InProcessTransport({"registry": warming})
    storage, _ = start_storage(
        StorageSettings(database_url=storage_db, write_lock_wait_seconds=LOCK_WAIT),
        get_storage,
        get_bus,
        utcnow,
    )
    transport.mount("storage", ServedApp(storage, stack))
    transport.mount("features", features_wsgi_app())
    registry = RegistryClient(client_for("registry", transport))
    inference = create_inference(
        inference_settings(root),
        registry,
        sleep=warming.sleep,
        storage=lambda: storage_port(transport),
        features=FeaturesClient(client_for("features", transport)),
    )
    transport.mount("inference", ServedApp(inference, stack))
    transport.mount("experiments", experiments_wsgi_app())
    trainer = RecordingTrainer()
    training = create_training(
        training_settings(root),
        registry=RegistryClient(client_for("registry", transport)),
        tracker=ExperimentsClient(client_for("experiments", transport)),
        lock_factory=InMemoryLockFactory(clock=TickingClock()),
        clock=StepClock(),
        trainer=trainer,
        storage=storage_port(transport),
        features=FeaturesClient(client_for("features", transport)),
    )
    transport.mount("training", ServedApp(training, stack))
    gw_settings = GatewaySettings(upstreams={name: f"http://{name}" for name in SERVICES})
    factory = make_client_factory(gw_settings, transport=transport, sleep=lambda _: None)
    gateway = stack.enter_context(TestClient(create_gateway(gw_settings, factory)))
    return Platform(root, warming, inference, training, gateway, trainer, transport, stack, storage)


@pytest.fixture
def platform(tmp_path: Path, registry_app: Any) -> Iterator[Platform]:
    """Boot the slice for one test on a fresh registry database and artifact root."""
    with ExitStack() as stack:
        yield boot(tmp_path / "artifacts", registry_app, stack)
