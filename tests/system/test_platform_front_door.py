"""The platform's front door: start-up against a warming registry and a gateway that needs a key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.gateway.config import Settings as GatewaySettings
from services.gateway.main import create_app as create_gateway
from tests.utils.platform import PLATFORM_DB, SERVICES, Platform

pytestmark = [pytest.mark.gateway, PLATFORM_DB]

KEY = "ops-7c1e"
JOBS = "/api/training/api/v1/jobs"


def job_body(name: str) -> dict:
    return {
        "model_name": name,
        "dataset": {"kind": "classification", "n_samples": 64, "n_features": 3, "seed": 7},
        "hyperparams": {"lr": 0.2, "epochs": 2, "batch_size": 16, "seed": 7},
    }


@pytest.fixture
def locked(platform: Platform) -> Iterator[TestClient]:
    """A second gateway in front of the same services, configured to require an API key."""
    settings = GatewaySettings(
        upstreams={name: f"http://{name}" for name in SERVICES},
        require_auth=True,
        api_keys=frozenset({KEY}),
    )
    app = create_gateway(settings, platform.gateway.app.state.upstreams.client)
    with TestClient(app) as client:
        yield client


def test_inference_probes_the_warming_registry_once_per_readiness_attempt(platform):
    # The registry turns healthy a little after start-up; inference keeps probing until it does.
    assert platform.registry.health_probes == [503, 503, 503, 200]
    assert platform.registry.elapsed == pytest.approx(1.75)
    assert platform.gateway.get("/api/inference/health").json()["status"] == "ok"


def test_gateway_requiring_a_key_refuses_a_training_job_without_one(platform, locked):
    response = locked.post(JOBS, json=job_body("churn"))
    assert response.status_code == 401
    assert platform.trainer.results == []
    assert platform.gateway.get("/api/registry/api/v1/registered-models/churn").status_code == 404


def test_gateway_requiring_a_key_runs_a_training_job_sent_with_it(platform, locked):
    accepted = locked.post(JOBS, json=job_body("churn"), headers={"X-API-Key": KEY})
    assert accepted.status_code == 202, accepted.text
    job = locked.get(f"{JOBS}/{accepted.json()['id']}", headers={"X-API-Key": KEY}).json()
    assert job["status"] == "succeeded"
    assert len(platform.trainer.results) == 1


def test_gateway_requiring_a_key_refuses_a_promotion_with_a_wrong_key(platform, locked):
    trained = platform.train("churn")
    url = f"/api/registry/api/v1/registered-models/churn/versions/{trained.version}/transition"
    response = locked.post(url, json={"stage": "Staging"}, headers={"X-API-Key": KEY + "0"})
    assert response.status_code == 401
    assert platform.version("churn", trained.version)["stage"] == "None"
