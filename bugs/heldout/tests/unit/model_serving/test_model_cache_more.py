"""Held-out: the model cache as predictions use it, with a larger cache and more newcomers."""

from __future__ import annotations

import pytest

from tests.utils.inference import ROWS, make_artifact, make_env, running

pytestmark = pytest.mark.inference


def test_busiest_of_three_models_survives_two_newcomers(tmp_path):
    env = make_env(tmp_path, cache_max_models=3)
    for i, name in enumerate(("busy", "p", "q", "r", "s")):
        env.publish(name, 1, make_artifact(seed=i))
    with running(env) as client:
        for name in ("busy", "p", "q"):
            client.post(f"/api/v1/deployments/{name}", json={"version": 1})
        for name in ("r", "s"):
            assert (
                client.post("/api/v1/models/busy/predict", json={"instances": ROWS}).status_code
                == 200
            )
            client.post(f"/api/v1/deployments/{name}", json={"version": 1})
        assert (
            client.post("/api/v1/models/busy/predict", json={"instances": ROWS}).status_code == 200
        )
    busy_path = env.root / "busy" / "v1" / "model.npz"
    assert env.loader.calls.count(busy_path) == 1
