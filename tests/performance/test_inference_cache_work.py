"""Serving work is bounded: cached models load once, the registry is not asked per request."""

from __future__ import annotations

import pytest

from tests.utils.inference import ROWS, make_artifact, make_env, running

pytestmark = pytest.mark.inference


class CountingArtifact:
    """Wrap an artifact and count its predict calls."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.predict_calls = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def predict(self, X):
        self.predict_calls += 1
        return self.inner.predict(X)


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path, cache_max_models=2)


def predict(client, name, rows=ROWS):
    response = client.post(f"/api/v1/models/{name}/predict", json={"instances": rows})
    assert response.status_code == 200, response.text
    return response.json()


def test_cached_model_is_loaded_once_for_many_predictions(env):
    env.publish("churn", 1, make_artifact(seed=1))
    with running(env) as client:
        client.post("/api/v1/deployments/churn", json={"version": 1})
        for _ in range(25):
            predict(client, "churn")
    assert len(env.loader.calls) == 1


def test_predictions_do_not_call_the_registry(env):
    env.publish("churn", 1, make_artifact(seed=1))
    with running(env) as client:
        client.post("/api/v1/deployments/churn", json={"version": 1})
        before = len(env.registry.requests)
        for _ in range(10):
            predict(client, "churn")
    assert len(env.registry.requests) == before


def test_cycling_through_more_models_than_fit_reloads_each(env):
    for i, name in enumerate(("a", "b", "c")):
        env.publish(name, 1, make_artifact(seed=i))
    with running(env) as client:
        for name in ("a", "b", "c"):
            client.post(f"/api/v1/deployments/{name}", json={"version": 1})
        for name in ("a", "b", "c"):
            predict(client, name)
        cache = client.get("/api/v1/deployments").json()["cache"]
    assert cache == {"max_models": 2, "loaded": 2, "loads": 6, "evictions": 4}


def test_hot_model_stays_cached_while_others_rotate(env):
    for i, name in enumerate(("hot", "b", "c")):
        env.publish(name, 1, make_artifact(seed=i))
    with running(env) as client:
        client.post("/api/v1/deployments/hot", json={"version": 1})
        for name in ("b", "c", "b", "c"):
            predict(client, "hot")
            client.post(f"/api/v1/deployments/{name}", json={"version": 1})
        predict(client, "hot")
    hot_path = env.root / "hot" / "v1" / "model.npz"
    assert env.loader.calls.count(hot_path) == 1


def test_listing_deployments_loads_nothing(env):
    env.publish("churn", 1, make_artifact(seed=1))
    with running(env) as client:
        client.post("/api/v1/deployments/churn", json={"version": 1})
        for _ in range(5):
            client.get("/api/v1/deployments")
    assert len(env.loader.calls) == 1


def test_a_batch_is_predicted_in_one_vectorised_call(env):
    loaded: list[CountingArtifact] = []
    real = env.loader.inner

    def counting_loader(path, expected_sha256=None, **kw):
        loaded.append(CountingArtifact(real(path, expected_sha256, **kw)))
        return loaded[-1]

    env.loader.inner = counting_loader
    env.publish("churn", 1, make_artifact(seed=1))
    with running(env) as client:
        client.post("/api/v1/deployments/churn", json={"version": 1})
        warm = [a.predict_calls for a in loaded]
        body = predict(client, "churn", ROWS * 100)
    assert len(body["predictions"]) == 300
    assert [a.predict_calls - w for a, w in zip(loaded, warm, strict=True)] == [1]
