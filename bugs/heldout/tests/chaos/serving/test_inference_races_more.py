"""Held-out: swaps, rollbacks, startup waits and stage checks in orders the visible tests skip."""

from __future__ import annotations

import threading

import pytest

from services.inference.main import ModelServer, cache_key
from shared.errors import ConflictError
from tests.utils.inference import ROWS, FakeRegistry, SpyLock, make_artifact, make_env, running

pytestmark = pytest.mark.inference

WAIT = 5.0  # bound on event waits: never reached on a correct run


def server_over(tmp_path, models, calls, **kw) -> tuple[ModelServer, FakeRegistry]:
    registry = FakeRegistry()
    for (name, version), model in models.items():
        schema = {"features": list(model.input_schema)}
        registry.add(name, version, f"{name}/{version}.npz", input_schema=schema)

    def loader(path, expected_sha256=None, **_):
        key = (path.parent.name, int(path.stem))
        calls.append(key)
        return models[key]

    server = ModelServer(registry.client(), artifact_root=tmp_path, loader=loader, **kw)
    return server, registry


def test_prediction_during_a_rollback_is_answered_by_the_version_rolled_back_to(tmp_path):
    progress, evicting, resume = threading.Event(), threading.Event(), threading.Event()
    armed = threading.Event()

    def on_release(key, reason):
        if armed.is_set() and key == cache_key("pricing", 3):
            evicting.set()
            resume.wait(WAIT)

    calls: list = []
    models = {("pricing", n): make_artifact("logistic", seed=n) for n in (2, 3)}
    server, _ = server_over(
        tmp_path, models, calls, max_models=1, lock=SpyLock(progress.set), on_release=on_release
    )
    server.deploy("pricing", 2)
    server.deploy("pricing", 3)
    armed.set()
    out: dict = {}
    swap = threading.Thread(target=server.deploy, args=("pricing", 2), daemon=True)
    swap.start()
    assert evicting.wait(WAIT)

    def predict():
        try:
            out["value"] = server.predict("pricing", ROWS)
        finally:
            progress.set()

    reader = threading.Thread(target=predict, daemon=True)
    reader.start()
    progress.wait(WAIT)
    resume.set()
    swap.join(WAIT)
    reader.join(WAIT)
    assert out["value"]["version"] == 2
    assert calls == [("pricing", 2), ("pricing", 3), ("pricing", 2)]


def test_readiness_backoff_doubles_up_to_a_configured_ceiling_of_one_and_a_half(tmp_path):
    env = make_env(
        tmp_path,
        health=[503] * 7,
        readiness_attempts=7,
        readiness_backoff=0.25,
        readiness_max_backoff=1.5,
    )
    with running(env) as client:
        assert client.get("/health").status_code == 503
    assert env.sleeps == [0.25, 0.5, 1.0, 1.5, 1.5, 1.5]


def test_deploy_asked_for_production_refuses_a_version_the_registry_has_archived(tmp_path):
    calls: list = []
    models = {("fraud", n): make_artifact("linear", seed=n) for n in (4, 5)}
    server, registry = server_over(tmp_path, models, calls, max_models=4)
    registry.versions[("fraud", 4)]["stage"] = "Archived"
    server.deploy("fraud", 5)
    with pytest.raises(ConflictError):
        server.deploy("fraud", 4, stage="Production")
    assert server.predict("fraud", ROWS)["version"] == 5
    assert calls == [("fraud", 5)]
