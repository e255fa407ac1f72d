"""Held-out: a version record without any stage takes no routed or shadow traffic."""

from __future__ import annotations

import pytest

from tests.utils.inference import deploy_ok, make_artifact, make_env, running, split

pytestmark = pytest.mark.inference


@pytest.fixture
def client(tmp_path):
    env = make_env(tmp_path)
    env.publish("fraud", 1, make_artifact("logistic", seed=1))
    env.publish("fraud", 2, make_artifact("logistic", seed=2))
    del env.registry.versions[("fraud", 2)]["stage"]
    env.publish("fraud", 3, make_artifact("logistic", seed=3), stage="Development")
    with running(env) as client:
        deploy_ok(client, "fraud", 1)
        yield client


def test_version_without_a_stage_cannot_be_a_canary(client):
    assert split(client, "fraud", {1: 95, 2: 5}).status_code == 409


def test_development_version_cannot_shadow(client):
    assert split(client, "fraud", {1: 100}, shadow=3).status_code == 409
