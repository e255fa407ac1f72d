"""Batched serving under concurrency: gathered requests, a bad one among them, a swap mid-gather."""

from __future__ import annotations

import threading

import pytest

from services.inference.predictions import format_predictions
from tests.utils.inference import (
    ROWS,
    HeldWaiter,
    deploy_ok,
    load_instead,
    make_env,
    matrix,
    recording,
    running,
)

pytestmark = pytest.mark.inference


def alone(model, rows) -> list[float]:
    """The values ``model`` gives ``rows`` when it sees them on their own."""
    return [p["value"] for p in format_predictions(model, matrix(rows))]


def background(client, name: str, rows) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def body():
        out["response"] = client.post(f"/api/v1/models/{name}/predict", json={"instances": rows})

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def answered(thread: threading.Thread, out: dict) -> dict:
    thread.join(5.0)
    assert not thread.is_alive(), "the prediction was never answered"
    response = out["response"]
    assert response.status_code == 200, response.text
    return response.json()


def served(body: dict) -> tuple[str, int, list[float]]:
    return body["model"], body["version"], [p["value"] for p in body["predictions"]]


@pytest.fixture
def make(tmp_path):
    def build(models: dict, **settings):
        waiter = HeldWaiter()
        env = make_env(tmp_path, batch_waiter=waiter, batch_wait_ms=5, **settings)
        for name, version in models:
            env.publish(name, version, models[(name, version)])
        load_instead(env, models)
        return env, waiter

    return build


def test_concurrent_predictions_share_one_model_call_and_each_gets_its_rows(make):
    model = recording(1)
    env, waiter = make({("churn", 1): model}, max_batch_rows=3)
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        model.calls.clear()
        first = background(client, "churn", ROWS[:1])
        waiter.gathering()
        second, third = (
            background(client, "churn", ROWS[1:2]),
            background(client, "churn", ROWS[2:]),
        )
        bodies = [answered(*request) for request in (first, second, third)]
        stats = client.get("/api/v1/deployments/churn/stats").json()

    assert model.calls == [3]
    for body, row in zip(bodies, (ROWS[:1], ROWS[1:2], ROWS[2:]), strict=True):
        assert served(body) == ("churn", 1, pytest.approx(alone(model, row)))
    assert stats["versions"][0]["requests"] == 3
    assert stats["admission"]["running"] == 0


def test_bad_request_among_gathered_ones_fails_alone(make):
    model = recording(1)
    env, waiter = make({("churn", 1): model}, max_batch_rows=2)
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        model.calls.clear()
        first = background(client, "churn", ROWS[:1])
        waiter.gathering()
        bad = client.post("/api/v1/models/churn/predict", json={"instances": [{"tenure": 1.0}]})
        second = background(client, "churn", ROWS[1:2])
        bodies = [answered(*first), answered(*second)]
        listed = client.get("/api/v1/deployments").json()["items"][0]

    assert bad.status_code == 422 and "instance 0" in bad.json()["detail"]
    assert [served(body)[2] for body in bodies] == [
        pytest.approx(alone(model, ROWS[:1])),
        pytest.approx(alone(model, ROWS[1:2])),
    ]
    assert model.calls[0] == 2
    assert (listed["requests"], listed["errors"]) == (3, 1)


def test_deploy_during_gathering_serves_each_request_from_one_version(make):
    old, new = recording(1), recording(2)
    env, waiter = make({("churn", 1): old, ("churn", 2): new}, max_batch_rows=2)
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        on_old = background(client, "churn", ROWS[:1])
        bound = waiter.gathering()
        deploy_ok(client, "churn", 2)
        new.calls.clear()
        on_new = [background(client, "churn", ROWS[1:2]), background(client, "churn", ROWS[2:])]
        new_bodies = [answered(*request) for request in on_new]
        bound.set()  # the old version's lone request reaches its bound
        old_body = answered(*on_old)

    assert served(old_body) == ("churn", 1, pytest.approx(alone(old, ROWS[:1])))
    assert [served(body)[:2] for body in new_bodies] == [("churn", 2), ("churn", 2)]
    assert served(new_bodies[0])[2] == pytest.approx(alone(new, ROWS[1:2]))
    assert new.calls[0] == 2


def test_predictions_of_different_models_never_share_a_batch(make):
    churn, fraud = recording(1), recording(2)
    env, waiter = make({("churn", 1): churn, ("fraud", 1): fraud}, max_batch_rows=2)
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        deploy_ok(client, "fraud", 1)
        churn.calls.clear()
        fraud.calls.clear()
        requests = [background(client, "churn", ROWS[:1])]
        waiter.gathering()
        requests.append(background(client, "fraud", ROWS[:1]))
        waiter.gathering()
        requests += [background(client, "churn", ROWS[1:2]), background(client, "fraud", ROWS[1:2])]
        bodies = [answered(*request) for request in requests]

    assert [served(body)[0] for body in bodies] == ["churn", "fraud", "churn", "fraud"]
    assert served(bodies[0])[2] == pytest.approx(alone(churn, ROWS[:1]))
    assert served(bodies[1])[2] == pytest.approx(alone(fraud, ROWS[:1]))
    assert churn.calls[0] == 2 and fraud.calls[0] == 2


def test_lone_prediction_is_answered_at_the_configured_bound(make):
    model = recording(1)
    env, waiter = make({("churn", 1): model}, max_batch_rows=8)
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        lone = background(client, "churn", ROWS[:2])
        waiter.gathering().set()  # nobody else comes: the bound runs out
        body = answered(*lone)

    assert served(body) == ("churn", 1, pytest.approx(alone(model, ROWS[:2])))
    assert waiter.timeouts == [0.005]


def test_request_waiting_for_companions_holds_its_admission_slot(make):
    model = recording(1)
    env, waiter = make({("churn", 1): model}, max_batch_rows=4, max_in_flight=1, max_queued=0)
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        gathering = background(client, "churn", ROWS[:1])
        bound = waiter.gathering()
        refused = client.post("/api/v1/models/churn/predict", json={"instances": ROWS[1:2]})
        bound.set()
        body = answered(*gathering)
        admission = client.get("/api/v1/deployments/churn/stats").json()["admission"]

    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert served(body)[:2] == ("churn", 1)
    assert (admission["refused"], admission["running"]) == (1, 0)
