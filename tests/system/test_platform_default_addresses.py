"""A slice started with nothing but the default addresses: each service finds its peers.

Only what a local deployment sets is set (artifact root, eager tasks, in-memory databases);
addresses come from each service's defaults, and requests reach whichever app listens on the
host and port they name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.gateway.config import Settings as GatewaySettings
from services.gateway.main import create_app as create_gateway
from services.gateway.main import make_client_factory
from services.inference.config import Settings as InferenceSettings
from services.inference.main import create_app as create_inference
from services.training.config import Settings as TrainingSettings
from services.training.main import create_app as create_training
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.inprocess import InProcessTransport
from shared.clients.registry import RegistryClient
from shared.services import SERVICES
from shared.utils.distributed import InMemoryLockFactory
from tests.utils.models import make_models_env
from tests.utils.platform import PLATFORM_DB, RecordingTrainer, ServedApp, rows
from tests.utils.training import StepClock, TickingClock, training_settings

pytestmark = [PLATFORM_DB, pytest.mark.inference]


class Localhost(httpx.BaseTransport):
    """Send each request to the app listening on the port its URL names."""

    def __init__(self) -> None:
        self.listening: dict[tuple[str, int | None], httpx.BaseTransport] = {}

    def listen(self, service: str, app: Any) -> None:
        """Serve ``app`` on the service's default local address."""
        url = httpx.URL(SERVICES[service].default_url)
        self.listening[(url.host, url.port)] = InProcessTransport({url.host: app})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer from the app on the request's host and port; nothing else connects."""
        transport = self.listening.get((request.url.host, request.url.port))
        if transport is None:
            raise httpx.ConnectError(f"nothing listens on {request.url.netloc!r}", request=request)
        return transport.handle_request(request)


@pytest.fixture
def local(tmp_path, registry_app, monkeypatch) -> Iterator[TestClient]:
    """Boot registry, models, inference, training and gateway on their default addresses."""
    network = Localhost()

    def client_of(url: str) -> RegistryClient:
        discovery = StaticDiscovery({"registry": url})
        retry = RetryPolicy(max_attempts=1)
        return RegistryClient(
            ServiceClient("registry", discovery=discovery, transport=network, retry=retry)
        )

    monkeypatch.setattr(RegistryClient, "from_url", staticmethod(client_of))
    network.listen("registry", registry_app)
    network.listen("models", make_models_env().app)
    with ExitStack() as stack:
        root = tmp_path / "artifacts"
        inference = create_inference(InferenceSettings(artifact_root=root), sleep=lambda _: None)
        network.listen("inference", ServedApp(inference, stack))
        default_registry = TrainingSettings.model_fields["registry_url"].default
        training = create_training(
            training_settings(root, registry_url=default_registry),
            lock_factory=InMemoryLockFactory(clock=TickingClock()),
            clock=StepClock(),
            trainer=RecordingTrainer(),
        )
        network.listen("training", ServedApp(training, stack))
        settings = GatewaySettings()
        factory = make_client_factory(settings, transport=network, sleep=lambda _: None)
        yield stack.enter_context(TestClient(create_gateway(settings, factory)))


def test_trained_version_is_served_when_every_address_is_the_default(local):
    job = {
        "model_name": "churn",
        "dataset": {"kind": "classification", "n_samples": 64, "n_features": 3, "seed": 7},
        "hyperparams": {"lr": 0.2, "epochs": 3, "batch_size": 16, "seed": 7},
    }
    accepted = local.post("/api/training/api/v1/jobs", json=job)
    assert accepted.status_code == 202, accepted.text
    finished = local.get(f"/api/training/api/v1/jobs/{accepted.json()['id']}").json()
    assert finished["status"] == "succeeded", finished
    version = finished["model_version"]
    deployed = local.post("/api/inference/api/v1/deployments/churn", json={"version": version})
    assert deployed.status_code == 200, deployed.text
    answer = local.post("/api/inference/api/v1/models/churn/predict", json={"instances": rows()})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == version
