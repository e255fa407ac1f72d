"""Batched serving work: concurrent predictions cost one model call, a full one never waits."""

from __future__ import annotations

import threading

import pytest

from tests.utils.inference import (
    ROWS,
    HeldWaiter,
    deploy_ok,
    load_instead,
    make_env,
    recording,
    running,
)

pytestmark = pytest.mark.inference

PREDICT = "/api/v1/models/churn/predict"


def test_eight_concurrent_single_row_predictions_cost_one_model_call(tmp_path):
    model, waiter = recording(1), HeldWaiter()
    env = make_env(tmp_path, batch_waiter=waiter, max_batch_rows=8)
    env.publish("churn", 1, model)
    load_instead(env, {("churn", 1): model})
    statuses: list[int] = []

    def one(row):
        statuses.append(client.post(PREDICT, json={"instances": [row]}).status_code)

    with running(env) as client:
        deploy_ok(client, "churn", 1)
        model.calls.clear()
        threads = [threading.Thread(target=one, args=(ROWS[i % 3],)) for i in range(8)]
        threads[0].start()
        waiter.gathering()
        for thread in threads[1:]:
            thread.start()
        for thread in threads:
            thread.join(5.0)
        requests = client.get("/api/v1/deployments").json()["items"][0]["requests"]

    assert statuses == [200] * 8
    assert model.calls == [8]
    assert requests == 8


def test_prediction_that_fills_a_batch_is_answered_without_waiting(tmp_path):
    def never(event, timeout):
        raise AssertionError("a full batch waited for companions")

    model = recording(1)
    env = make_env(tmp_path, batch_waiter=never, max_batch_rows=3, batch_wait_ms=50)
    env.publish("churn", 1, model)
    load_instead(env, {("churn", 1): model})
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        model.calls.clear()
        response = client.post(PREDICT, json={"instances": ROWS})

    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 3
    assert model.calls == [3]
