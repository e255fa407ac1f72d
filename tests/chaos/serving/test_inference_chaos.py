"""Serving under stress: swaps and evictions during predictions, a registry down at startup."""

from __future__ import annotations

import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from services.inference.config import Settings
from services.inference.main import ModelServer, cache_key, create_app
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.registry import RegistryClient
from shared.ml.model_loader import ModelArtifact
from tests.utils.inference import (
    ROWS,
    FakeRegistry,
    SpyLock,
    announce,
    make_artifact,
    make_env,
    matrix,
    running,
    set_before,
)

pytestmark = pytest.mark.inference

WAIT = 5.0  # bound on event waits: never reached on a correct run


class GatedArtifact(ModelArtifact):
    """A model whose predictions of several rows block until the test opens the gate.

    One-row predictions (a deploy's warm-up) pass straight through.
    """

    def arm(self) -> GatedArtifact:
        self.entered, self.gate = threading.Event(), threading.Event()
        return self

    def predict(self, X):
        if len(X) == 1:
            return super().predict(X)
        self.entered.set()
        assert self.gate.wait(WAIT), "test never opened the gate"
        return super().predict(X)


def gated(seed: int) -> GatedArtifact:
    plain = make_artifact("linear", seed=seed)
    return GatedArtifact(plain.kind, plain.weights, plain.input_schema, plain.metadata).arm()


def run(target, *args) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def body():
        try:
            out["value"] = target(*args)
        except Exception as exc:  # the test inspects it
            out["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def server_with(tmp_path, models: dict[tuple[str, int], ModelArtifact], **kw) -> ModelServer:
    registry = FakeRegistry()
    for (name, version), model in models.items():
        schema = {"features": list(model.input_schema)}
        registry.add(name, version, f"{name}/{version}.npz", input_schema=schema)
    calls = kw.pop("calls", [])

    def loader(path, expected_sha256=None, **_):
        key = (path.parent.name, int(path.stem))
        calls.append(key)
        return models[key]

    return ModelServer(registry.client(), artifact_root=tmp_path, loader=loader, **kw)


def test_in_flight_prediction_finishes_on_the_old_version(tmp_path):
    old, new = gated(1), make_artifact("linear", seed=2)
    server = server_with(tmp_path, {("m", 1): old, ("m", 2): new}, max_models=4)
    server.deploy("m", 1)
    thread, out = run(server.predict, "m", ROWS)
    assert old.entered.wait(WAIT)
    server.deploy("m", 2)
    old.gate.set()
    thread.join(WAIT)
    assert out["value"]["version"] == 1
    assert server.predict("m", ROWS)["version"] == 2


def test_swap_does_not_wait_for_in_flight_predictions(tmp_path):
    old = gated(1)
    server = server_with(tmp_path, {("m", 1): old, ("m", 2): make_artifact(seed=2)}, max_models=4)
    server.deploy("m", 1)
    thread, _ = run(server.predict, "m", ROWS)
    assert old.entered.wait(WAIT)
    swap, out = run(server.deploy, "m", 2)
    swap.join(WAIT)
    finished = not swap.is_alive()
    old.gate.set()
    thread.join(WAIT)
    assert finished and out["value"].version == 2


def swap_with_prediction_in_between(tmp_path):
    """Block a swap v1 → v2 while it evicts v1, then predict; return (prediction, loads)."""
    progress, evicting, resume = threading.Event(), threading.Event(), threading.Event()
    swapped = threading.Event()

    def on_release(key, reason):
        if key == cache_key("m", 1):
            announce(evicting)
            resume.wait(WAIT)

    calls: list = []
    models = {("m", 1): make_artifact("linear", seed=1), ("m", 2): make_artifact("linear", seed=2)}
    server = server_with(
        tmp_path,
        models,
        max_models=1,
        lock=SpyLock(progress.set),
        on_release=on_release,
        calls=calls,
    )
    server.deploy("m", 1)

    def swap_then_signal():
        try:
            return server.deploy("m", 2)
        finally:
            announce(swapped)

    swap, _ = run(swap_then_signal)
    assert set_before(evicting, swapped, WAIT)

    def predict_then_signal():
        try:
            return server.predict("m", ROWS)
        finally:
            progress.set()

    thread, out = run(predict_then_signal)
    progress.wait(WAIT)
    resume.set()
    swap.join(WAIT)
    thread.join(WAIT)
    return out, calls, server


def test_prediction_during_a_swap_sees_the_new_version(tmp_path):
    out, _, _ = swap_with_prediction_in_between(tmp_path)
    assert out["value"]["version"] == 2


def test_prediction_during_a_swap_never_reloads_the_old_version(tmp_path):
    _, calls, server = swap_with_prediction_in_between(tmp_path)
    assert calls == [("m", 1), ("m", 2)]
    assert server.loaded_model("m", 2) is not None


def test_eviction_while_predicting_lets_the_prediction_finish(tmp_path):
    a = gated(1)
    models = {("a", 1): a, ("b", 1): make_artifact("linear", seed=2)}
    server = server_with(tmp_path, models, max_models=1)
    server.deploy("a", 1)
    thread, out = run(server.predict, "a", ROWS)
    assert a.entered.wait(WAIT)
    server.deploy("b", 1)
    assert server.loaded_model("a", 1) is None
    a.gate.set()
    thread.join(WAIT)
    assert [p["value"] for p in out["value"]["predictions"]] == a.predict(matrix()).tolist()


def test_evicted_model_is_reloaded_on_its_next_prediction(tmp_path):
    calls: list = []
    models = {("a", 1): make_artifact("linear", seed=1), ("b", 1): make_artifact(seed=2)}
    server = server_with(tmp_path, models, max_models=1, calls=calls)
    server.deploy("a", 1)
    server.deploy("b", 1)
    assert server.predict("a", ROWS)["version"] == 1
    assert calls == [("a", 1), ("b", 1), ("a", 1)]


def test_inference_comes_up_once_a_slow_registry_does(tmp_path):
    env = make_env(tmp_path, health=[503, 503, 200], readiness_attempts=5)
    with running(env) as client:
        assert client.get("/health").status_code == 200
    assert env.registry.requests == ["/health"] * 3
    # a registry still warming up is given longer to answer before each further probe
    assert len(env.sleeps) == 2 and env.sleeps[1] > env.sleeps[0]


def test_registry_answering_503_at_startup_leaves_health_503(tmp_path):
    env = make_env(tmp_path, health=[503] * 4, readiness_attempts=4)
    with running(env) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "4 probes" in response.json()["detail"]
    assert len(env.sleeps) == 3


def test_api_refuses_to_serve_while_the_registry_is_not_ready(tmp_path):
    env = make_env(tmp_path, health=[503, 503], readiness_attempts=2)
    env.publish("churn", 1, make_artifact(seed=1))
    with running(env) as client:
        response = client.post("/api/v1/deployments/churn", json={"version": 1})
    assert response.status_code == 503
    assert env.loader.calls == []


def test_unreachable_registry_is_probed_a_bounded_number_of_times(tmp_path):
    attempts: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    service = ServiceClient(
        "registry",
        discovery=StaticDiscovery({"registry": "http://registry"}),
        transport=httpx.MockTransport(refuse),
        retry=RetryPolicy(max_attempts=1),
    )
    registry = RegistryClient(service)
    sleeps: list[float] = []
    settings = Settings(artifact_root=tmp_path, readiness_attempts=6)
    app = create_app(settings, registry, sleep=sleeps.append)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 503
    assert len(attempts) == 6
    # one pause between probes, never shorter than the one before and longer by the end
    assert len(sleeps) == 5
    assert sleeps == sorted(sleeps) and sleeps[-1] > sleeps[0]


def test_health_reports_starting_before_the_wait_has_run(tmp_path):
    env = make_env(tmp_path)
    response = TestClient(env.app).get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "starting"


def test_deploy_refused_during_a_registry_outage_succeeds_once_it_recovers(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact())
    env.registry.lookup_failures = [503]
    with running(env) as client:
        during = client.post("/api/v1/deployments/churn", json={"version": 1})
        assert during.status_code >= 500, during.text
        after = client.post("/api/v1/deployments/churn", json={"version": 1})
        assert after.status_code == 200, after.text
        served = client.post("/api/v1/models/churn/predict", json={"instances": ROWS})
        assert served.json()["version"] == 1
