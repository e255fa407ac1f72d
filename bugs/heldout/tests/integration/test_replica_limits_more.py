"""Held-out: other replica limits, set through the environment, refuse the next caller."""

from __future__ import annotations

import pytest

from tests.utils.inference import deploy_ok, make_artifact, make_env, running

pytestmark = pytest.mark.inference


def test_in_flight_limit_of_two_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNAPSE_INFERENCE_MAX_IN_FLIGHT", "2")
    monkeypatch.setenv("SYNAPSE_INFERENCE_QUEUE_TIMEOUT", "0.25")
    env = make_env(tmp_path)
    env.publish("basket", 1, make_artifact("linear", seed=5))
    with running(env) as client:
        deploy_ok(client, "basket", 1)
        admission = client.get("/api/v1/deployments/basket/stats").json()["admission"]
    assert admission["max_in_flight"] == 2
