"""Micro-batching of predictions: who shares a model call, how long anyone waits."""

from __future__ import annotations

import threading

import pytest

from services.inference.batching import Batcher
from services.inference.predictions import format_predictions
from tests.utils.inference import (
    ROWS,
    HeldWaiter,
    LapsingWaiter,
    matrix,
    recording,
)

pytestmark = pytest.mark.inference


def in_background(batcher: Batcher, key: str, model, X) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def body():
        try:
            out["value"] = batcher.predict(key, model, X)
        except Exception as exc:  # the test inspects it
            out["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def answer(thread: threading.Thread, out: dict):
    thread.join(5.0)
    assert not thread.is_alive(), "the request was never answered"
    assert "error" not in out, out.get("error")
    return out["value"]


def alone(model, rows) -> list[float]:
    """The values ``model`` gives ``rows`` when it sees them on their own."""
    return [p["value"] for p in format_predictions(model, matrix(rows))]


def values(predictions) -> list[float]:
    return [p["value"] for p in predictions]


def test_concurrent_requests_share_one_model_call_and_get_their_own_rows():
    model, waiter = recording(1), HeldWaiter()
    batcher = Batcher(4, 0.005, waiter=waiter)
    first = in_background(batcher, "churn/v1", model, matrix(ROWS[:1]))
    waiter.gathering()
    second = in_background(batcher, "churn/v1", model, matrix(ROWS[1:3]))
    third = in_background(batcher, "churn/v1", model, matrix(ROWS[:1]))

    assert values(answer(*first)) == pytest.approx(alone(model, ROWS[:1]))
    assert values(answer(*second)) == pytest.approx(alone(model, ROWS[1:3]))
    assert values(answer(*third)) == pytest.approx(alone(model, ROWS[:1]))
    assert model.calls[0] == 4 and len(model.calls) == 1 + 3  # one batch, then three checks


def test_lone_request_is_answered_once_the_bounded_wait_runs_out():
    model, waiter = recording(1), LapsingWaiter()
    batcher = Batcher(8, 0.005, waiter=waiter)

    predictions = batcher.predict("churn/v1", model, matrix(ROWS[:2]))

    assert values(predictions) == pytest.approx(alone(model, ROWS[:2]))
    assert waiter.timeouts == [0.005]
    assert model.calls[0] == 2


def test_request_that_fills_a_batch_by_itself_never_waits():
    model = recording(1)

    def never(event, timeout):
        raise AssertionError("a full batch waited for companions")

    batcher = Batcher(3, 0.005, waiter=never)

    assert len(batcher.predict("churn/v1", model, matrix(ROWS))) == 3
    assert model.calls == [3]


def test_rows_that_do_not_fit_send_the_open_batch_and_start_the_next():
    model, waiter = recording(1), HeldWaiter()
    expected = [alone(model, rows) for rows in (ROWS[:2], ROWS[1:3], ROWS[:1])]
    model.calls.clear()
    batcher = Batcher(3, 0.005, waiter=waiter)
    first = in_background(batcher, "churn/v1", model, matrix(ROWS[:2]))
    waiter.gathering()
    second = in_background(batcher, "churn/v1", model, matrix(ROWS[1:3]))
    assert values(answer(*first)) == pytest.approx(expected[0])
    waiter.gathering()
    third = in_background(batcher, "churn/v1", model, matrix(ROWS[:1]))

    assert values(answer(*second)) == pytest.approx(expected[1])
    assert values(answer(*third)) == pytest.approx(expected[2])
    assert model.calls == [2, 3]


def test_different_versions_never_share_a_batch():
    old, new, waiter = recording(1), recording(2), HeldWaiter()
    batcher = Batcher(2, 0.005, waiter=waiter)
    on_old = in_background(batcher, "churn/v1", old, matrix(ROWS[:1]))
    waiter.gathering()
    on_new = in_background(batcher, "churn/v2", new, matrix(ROWS[:1]))
    waiter.gathering()
    also_old = in_background(batcher, "churn/v1", old, matrix(ROWS[1:2]))
    also_new = in_background(batcher, "churn/v2", new, matrix(ROWS[1:2]))

    assert values(answer(*on_old)) == pytest.approx(alone(old, ROWS[:1]))
    assert values(answer(*on_new)) == pytest.approx(alone(new, ROWS[:1]))
    answer(*also_old), answer(*also_new)
    assert old.calls[0] == 2 and new.calls[0] == 2


def test_model_failure_reaches_every_request_of_its_batch():
    def broken(model, X):
        raise RuntimeError("model crashed")

    waiter = HeldWaiter()
    batcher = Batcher(2, 0.005, waiter=waiter, run=broken)
    model = recording(1)
    first = in_background(batcher, "churn/v1", model, matrix(ROWS[:1]))
    waiter.gathering()
    second = in_background(batcher, "churn/v1", model, matrix(ROWS[1:2]))

    for thread, out in (first, second):
        thread.join(5.0)
        assert isinstance(out.get("error"), RuntimeError)
