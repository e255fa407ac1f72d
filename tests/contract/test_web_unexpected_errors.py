"""Every FastAPI service answers an unexpected failure with the same JSON problem, never a trace.

The failure is injected through each app's own dependencies (a clock, a client factory, a
model loader), so the request travels the real route and middleware stack.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.gateway.config import Settings as GatewaySettings
from services.gateway.main import create_app as create_gateway
from tests.utils.inference import make_env, running
from tests.utils.models import MODELS_URL, make_models_env, model_payload
from tests.utils.training import JOBS_URL, job_payload, make_training_env

SECRET = "dsn=postgres://admin:hunter2@db"
PROBLEM = {"error": "internal_error", "detail": "the service failed to handle the request"}


def explode(*_: Any, **__: Any) -> Any:
    raise RuntimeError(SECRET)


def assert_problem(response: Any, caplog: pytest.LogCaptureFixture, service: str) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == PROBLEM
    assert SECRET not in response.text
    logged = [r for r in caplog.records if r.name == "synapse.web" and service in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None and SECRET in str(logged[0].exc_info[1])


@pytest.mark.models
def test_models_answers_an_unexpected_error_with_a_json_problem(caplog):
    env = make_models_env(clock=explode)
    with caplog.at_level(logging.ERROR, logger="synapse.web"):
        response = env.client.post(MODELS_URL, json=model_payload())
    assert_problem(response, caplog, "models")


@pytest.mark.training
def test_training_answers_an_unexpected_error_with_a_json_problem(tmp_path, caplog):
    env = make_training_env(tmp_path, clock=explode)
    client = TestClient(env.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="synapse.web"):
        response = client.post(JOBS_URL, json=job_payload())
    assert_problem(response, caplog, "training")


@pytest.mark.gateway
def test_gateway_answers_an_unexpected_error_with_a_json_problem(caplog):
    settings = GatewaySettings(upstreams={"models": "http://models"})
    client = TestClient(create_gateway(settings, explode), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="synapse.web"):
        response = client.get("/api/models/api/v1/models")
    assert_problem(response, caplog, "gateway")
    assert response.headers["x-correlation-id"]


@pytest.mark.inference
def test_inference_answers_an_unexpected_error_with_a_json_problem(tmp_path, caplog):
    env = make_env(tmp_path)
    env.registry.add("churn", 1, "churn/v1/model.npz")
    env.loader.before = explode
    with running(env) as client, caplog.at_level(logging.ERROR, logger="synapse.web"):
        response = client.post("/api/v1/deployments/churn", json={"version": 1})
    assert_problem(response, caplog, "inference")
