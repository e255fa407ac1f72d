"""Held-out: the model a caller keeps using stays loaded while newer deployments arrive."""

from __future__ import annotations

import pytest

from tests.utils.inference import ROWS, make_artifact, make_env, running

pytestmark = pytest.mark.inference


def test_model_in_steady_use_outlives_two_newer_deploys_in_a_cache_of_three(tmp_path):
    env = make_env(tmp_path, cache_max_models=3)
    for i, name in enumerate(("p", "q", "r", "s", "t")):
        env.publish(name, 2, make_artifact(seed=i))
    with running(env) as client:
        for name in ("p", "q", "r"):
            assert client.post(f"/api/v1/deployments/{name}", json={"version": 2}).status_code < 300
        for name in ("s", "t"):
            answer = client.post("/api/v1/models/p/predict", json={"instances": ROWS})
            assert answer.status_code == 200, answer.text
            assert client.post(f"/api/v1/deployments/{name}", json={"version": 2}).status_code < 300
        answer = client.post("/api/v1/models/p/predict", json={"instances": ROWS})
        assert answer.status_code == 200, answer.text
    assert env.loader.calls.count(env.root / "p" / "v2" / "model.npz") == 1
