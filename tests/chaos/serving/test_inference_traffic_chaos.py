"""Serving under pressure: full replicas, slow and broken versions, splits swapped mid-request."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

from shared.ml.model_loader import ModelArtifact
from tests.utils.inference import (
    BUCKET_KEYS,
    ROWS,
    announce,
    deploy_ok,
    make_artifact,
    make_env,
    running,
    served_version,
    set_before,
    split,
)

pytestmark = pytest.mark.inference

WAIT = 5.0  # bound on event waits: never reached on a correct run
PREDICT = "/api/v1/models/churn/predict"
ROUTING = "/api/v1/deployments/churn/routing"


class HeldArtifact(ModelArtifact):
    """A model whose first multi-row prediction waits for the test; others pass straight on.

    One-row predictions are warm-ups. Holding only the first caller keeps a run whose
    limits let a second caller in from waiting: that caller just answers.
    """

    def hold(self) -> HeldArtifact:
        self.inside = 0
        self.arrived, self.release = threading.Event(), threading.Event()
        return self

    def predict(self, X):
        if len(X) > 1:
            self.inside += 1
            if self.inside == 1:
                announce(self.arrived)
                assert self.release.wait(WAIT), "test never released the model"
        return super().predict(X)


class BrokenArtifact(ModelArtifact):
    """A model whose every prediction raises (a shadow or canary gone bad)."""

    def predict(self, X):
        raise RuntimeError("model crashed")


holding: list[HeldArtifact] = []


def held(seed: int) -> HeldArtifact:
    plain = make_artifact("linear", seed=seed)
    model = HeldArtifact(plain.kind, plain.weights, plain.input_schema, plain.metadata).hold()
    holding.append(model)
    return model


@pytest.fixture(autouse=True)
def _no_model_held_across_tests():
    yield
    holding.clear()


@contextmanager
def serving(env):
    """Run the app; let every held model go before it stops, so a failed test ends at once."""
    with running(env) as client:
        try:
            yield client
        finally:
            for model in holding:
                model.release.set()


def background(fn, *args, **kwargs):
    out: dict = {}
    done = threading.Event()

    def body():
        try:
            out["value"] = fn(*args, **kwargs)
        finally:
            announce(done)

    threading.Thread(target=body, daemon=True).start()
    return out, done


def swap_loader(env, models: dict[int, ModelArtifact]):
    """Serve ``models`` by version from the loader instead of the files."""
    real = env.loader.inner

    def loader(path, expected_sha256=None, **kw):
        version = int(path.parent.name[1:])
        return models.get(version) or real(path, expected_sha256, **kw)

    env.loader.inner = loader


@pytest.fixture
def make(tmp_path):
    def build(models: dict[int, ModelArtifact] | None = None, **settings):
        env = make_env(tmp_path, **settings)
        for version in (1, 2, 3):
            stage = "Production" if version == 1 else "Staging"
            env.publish("churn", version, make_artifact("linear", seed=version), stage=stage)
        swap_loader(env, models or {})
        return env

    return build


def predict_rows(client, key=None, rows=ROWS):
    body = {"instances": rows, **({"key": key} if key else {})}
    return client.post(PREDICT, json=body)


def queued(client) -> bool:
    """Return once a prediction waits for a slot (False if none ever does)."""
    stats = "/api/v1/deployments/churn/stats"
    return any(client.get(stats).json()["admission"]["waiting"] for _ in range(500))


def full_replica(make, **settings):
    """Return (env, model) for a replica of one slot whose model holds its first caller."""
    model = held(1)
    env = make({1: model}, max_in_flight=1, **settings)
    return env, model


def test_prediction_beyond_a_full_replica_is_429_with_retry_after(make):
    env, model = full_replica(make, max_queued=0)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        first, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        second = predict_rows(client)
        model.release.set()
        assert first_done.wait(WAIT)
    assert second.status_code == 429
    assert second.headers["retry-after"] == "1"
    assert first["value"].status_code == 200


def test_retry_after_follows_the_configured_seconds(make):
    env, model = full_replica(make, max_queued=0, busy_retry_after=7)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        _, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        second = predict_rows(client)
        model.release.set()
        assert first_done.wait(WAIT)
    assert second.headers["retry-after"] == "7"


def test_refusal_is_a_problem_naming_the_capacity(make):
    env, model = full_replica(make, max_queued=0)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        _, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        body = predict_rows(client).json()
        model.release.set()
        assert first_done.wait(WAIT)
    assert body["error"] == "too_many_requests"
    assert body["details"] == {"max_in_flight": 1, "max_queued": 0}


def test_queued_prediction_runs_once_the_slot_frees(make):
    env, model = full_replica(make, max_queued=1)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        _, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        second, second_done = background(predict_rows, client)
        assert queued(client)
        model.release.set()
        assert first_done.wait(WAIT) and second_done.wait(WAIT)
    assert second["value"].status_code == 200


def test_full_queue_refuses_the_next_prediction(make):
    env, model = full_replica(make, max_queued=1)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        _, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        _, second_done = background(predict_rows, client)
        assert queued(client)
        third = predict_rows(client)
        model.release.set()
        assert first_done.wait(WAIT) and second_done.wait(WAIT)
    assert third.status_code == 429


def test_queued_prediction_that_waits_too_long_is_refused(make):
    env, model = full_replica(make, max_queued=1, queue_timeout=0.01)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        _, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        second = predict_rows(client)
        model.release.set()
        assert first_done.wait(WAIT)
    assert second.status_code == 429
    assert "in time" in second.json()["detail"]


def test_refusals_are_counted_in_the_stats(make):
    env, model = full_replica(make, max_queued=0)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        _, first_done = background(predict_rows, client)
        assert set_before(model.arrived, first_done, WAIT)
        predict_rows(client)
        predict_rows(client)
        model.release.set()
        assert first_done.wait(WAIT)
        admission = client.get("/api/v1/deployments/churn/stats").json()["admission"]
    assert (admission["refused"], admission["running"]) == (2, 0)


def test_failed_prediction_gives_its_slot_back(make):
    env = make(max_in_flight=1, max_queued=0)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        bad = client.post(PREDICT, json={"instances": [{"tenure": 1.0}]})
        good = predict_rows(client)
    assert (bad.status_code, good.status_code) == (422, 200)


def test_slow_canary_does_not_hold_up_the_stable_version(make):
    canary = held(2)
    env = make({2: canary}, max_in_flight=2, max_queued=0)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        slow, slow_done = background(predict_rows, client, BUCKET_KEYS[9999])
        assert set_before(canary.arrived, slow_done, WAIT)
        fast = predict_rows(client, BUCKET_KEYS[0])
        canary.release.set()
        assert slow_done.wait(WAIT)
    assert fast.json()["version"] == 1
    assert slow["value"].json()["version"] == 2


def test_in_flight_prediction_finishes_on_its_version_while_the_split_changes(make):
    stable = held(1)
    env = make({1: stable})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        out, done = background(predict_rows, client, BUCKET_KEYS[9999])
        assert set_before(stable.arrived, done, WAIT)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        stable.release.set()
        assert done.wait(WAIT)
        after = served_version(client, "churn", BUCKET_KEYS[9999])
    assert out["value"].json()["version"] == 1
    assert after == 2


def test_requests_keep_the_old_split_while_a_canary_loads(make):
    env = make()
    loading, resume = threading.Event(), threading.Event()

    def block_canary(path):
        if path.parent.name == "v2":
            announce(loading)
            assert resume.wait(WAIT)

    env.loader.before = block_canary
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        swap, swap_done = background(split, client, "churn", {1: 90, 2: 10})
        assert set_before(loading, swap_done, WAIT)
        during = served_version(client, "churn", BUCKET_KEYS[9999])
        resume.set()
        assert swap_done.wait(WAIT)
        after = served_version(client, "churn", BUCKET_KEYS[9999])
    assert swap["value"].status_code == 200
    assert (during, after) == (1, 2)


def test_canary_failing_its_warm_up_leaves_the_old_split(make):
    nan = make_artifact("linear", seed=2)
    nan.weights["W"] = nan.weights["W"] * float("nan")
    env = make({3: nan})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        response = split(client, "churn", {1: 90, 3: 10})
        table = client.get(ROUTING).json()
        version = served_version(client, "churn", BUCKET_KEYS[9999])
    assert response.status_code == 409
    assert "warm-up" in response.json()["detail"]
    assert [r["version"] for r in table["routes"]] == [1, 2]
    assert version == 2


def test_deploy_failing_its_warm_up_keeps_the_old_version_serving(make):
    env = make({2: BrokenArtifact(**vars(make_artifact("linear", seed=2)))})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        response = client.post("/api/v1/deployments/churn", json={"version": 2})
        version = served_version(client, "churn", None)
    assert response.status_code == 409
    assert "warm-up" in response.json()["detail"]
    assert version == 1


def test_split_with_a_missing_artifact_changes_nothing(make):
    env = make()
    (env.root / "churn" / "v3" / "model.npz").unlink()
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        response = split(client, "churn", {1: 80, 2: 10, 3: 10})
        table = client.get(ROUTING).json()
    assert 400 <= response.status_code < 500
    assert [r["buckets"] for r in table["routes"]] == [9000, 1000]


def test_promotion_during_an_in_flight_canary_prediction(make):
    canary = held(2)
    env = make({2: canary})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        out, done = background(predict_rows, client, BUCKET_KEYS[9999])
        assert set_before(canary.arrived, done, WAIT)
        promoted = client.post(f"{ROUTING}/promote", json={"version": 2})
        canary.release.set()
        assert done.wait(WAIT)
        after = served_version(client, "churn", BUCKET_KEYS[0])
    assert promoted.status_code == 200
    assert out["value"].json()["version"] == 2
    assert after == 2


def test_rollback_during_an_in_flight_canary_prediction(make):
    canary = held(2)
    env = make({2: canary})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        out, done = background(predict_rows, client, BUCKET_KEYS[9999])
        assert set_before(canary.arrived, done, WAIT)
        assert client.delete(ROUTING).status_code == 204
        canary.release.set()
        assert done.wait(WAIT)
        after = served_version(client, "churn", BUCKET_KEYS[9999])
    assert out["value"].json()["version"] == 2
    assert after == 1


def test_undeploy_during_an_in_flight_routed_prediction(make):
    canary = held(2)
    env = make({2: canary})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        out, done = background(predict_rows, client, BUCKET_KEYS[9999])
        assert set_before(canary.arrived, done, WAIT)
        assert client.delete("/api/v1/deployments/churn").status_code == 204
        canary.release.set()
        assert done.wait(WAIT)
        after = predict_rows(client, BUCKET_KEYS[9999])
    assert out["value"].status_code == 200
    assert after.status_code == 404


def test_routed_versions_evicted_from_a_small_cache_are_reloaded(make):
    env = make(cache_max_models=1)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 50, 2: 50}).status_code == 200
        got = [served_version(client, "churn", BUCKET_KEYS[b]) for b in (0, 9999, 0, 9999)]
    assert got == [1, 2, 1, 2]


def test_canary_whose_file_vanished_fails_only_its_own_keys(make):
    env = make(cache_max_models=1)
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 50, 2: 50}).status_code == 200
        (env.root / "churn" / "v2" / "model.npz").unlink()
        stable = predict_rows(client, BUCKET_KEYS[0])
        canary = predict_rows(client, BUCKET_KEYS[9999])
    assert stable.status_code == 200
    assert 400 <= canary.status_code < 500


def test_shadow_failing_its_warm_up_is_refused_and_the_split_serves(make):
    env = make({3: BrokenArtifact(**vars(make_artifact("linear", seed=3)))})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        response = split(client, "churn", {1: 100}, shadow=3)
        assert response.status_code == 409  # its warm-up crashes too: never installed
        assert split(client, "churn", {1: 100}, shadow=2).status_code == 200
        body = predict_rows(client, BUCKET_KEYS[0]).json()
    assert body["version"] == 1


def test_shadow_that_crashes_after_warm_up_is_counted_not_returned(make):
    class CrashesOnRequests(ModelArtifact):
        def predict(self, X):
            if len(X) > 1:
                raise RuntimeError("model crashed")
            return super().predict(X)

    plain = make_artifact("linear", seed=3)
    env = make({3: CrashesOnRequests(**vars(plain))})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 100}, shadow=3).status_code == 200
        response = predict_rows(client, BUCKET_KEYS[0])
        stats = client.get("/api/v1/deployments/churn/stats").json()
    assert (response.status_code, response.json()["version"]) == (200, 1)
    shadow = next(v for v in stats["versions"] if v["role"] == "shadow")
    assert shadow["shadow"] == {"compared": 0, "agreed": 0, "errors": 1}


def test_slow_shadow_gets_the_copy_after_the_served_answer(make):
    shadow = held(3)
    env = make({3: shadow})
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 100}, shadow=3).status_code == 200
        out, done = background(predict_rows, client, BUCKET_KEYS[0])
        assert shadow.arrived.wait(WAIT)
        shadow.release.set()
        assert done.wait(WAIT)
    assert out["value"].json()["version"] == 1


def test_two_replicas_send_each_key_to_the_same_version(tmp_path):
    clients = []
    versions: list[list[int]] = []
    for replica in ("a", "b"):
        env = make_env(tmp_path / replica)
        env.publish("churn", 1, make_artifact("linear", seed=1))
        env.publish("churn", 2, make_artifact("linear", seed=2), stage="Staging")
        with serving(env) as client:
            deploy_ok(client, "churn", 1)
            assert split(client, "churn", {1: 50, 2: 50}).status_code == 200
            keys = [f"shopper-{n}" for n in range(8)]
            versions.append([served_version(client, "churn", k) for k in keys])
        clients.append(env)
    assert versions[0] == versions[1]
    assert set(versions[0]) == {1, 2}


def test_replica_restarted_mid_experiment_routes_keys_as_before(make):
    env = make()
    keys = [f"visitor-{n}" for n in range(8)]
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 70, 2: 30}).status_code == 200
        before = [served_version(client, "churn", k) for k in keys]
    fresh = make()
    with running(fresh) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 70, 2: 30}).status_code == 200
        after = [served_version(client, "churn", k) for k in keys]
    assert before == after


def test_customer_at_the_canary_edge_stays_on_the_canary_as_its_share_grows(make):
    env = make()
    with serving(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
        before = served_version(client, "churn", BUCKET_KEYS[9000])
        assert split(client, "churn", {1: 50, 2: 50}).status_code == 200
        after = [served_version(client, "churn", BUCKET_KEYS[b]) for b in (5000, 9000)]
    assert before == 2
    assert after == [2, 2]
