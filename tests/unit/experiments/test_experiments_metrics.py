"""Metric batches: all points kept, steps assigned in order, concurrent writers lose nothing."""

from __future__ import annotations

import pytest

from services.experiments import services as experiment_services
from tests.utils.experiments import EXPERIMENTS_DB, point, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def interleaving_clock(monkeypatch, other_writer):
    """Let another writer log once, at the moment the first writer asks for the time."""
    real_now = experiment_services.now
    pending = [other_writer]

    def now():
        if pending:
            pending.pop()()
        return real_now()

    monkeypatch.setattr(experiment_services, "now", now)


def test_batch_points_without_steps_follow_one_another(experiments_api):
    run = experiments_api.start()
    experiments_api.log(run["run_id"], [point("loss", 0.9), point("loss", 0.7)])
    experiments_api.log(run["run_id"], [point("loss", 0.5)])
    history = experiments_api.history(run["run_id"], "loss")
    assert [(p["step"], p["value"]) for p in history] == [(0, 0.9), (1, 0.7), (2, 0.5)]


def test_point_timestamps_from_other_zones_are_the_same_instants(experiments_api):
    run = experiments_api.start()
    stamp = "2026-03-10T12:00:00+05:30"
    experiments_api.log(run["run_id"], [point("loss", 0.4, 0, timestamp=stamp)])
    assert experiments_api.history(run["run_id"], "loss")[0]["timestamp"] == "2026-03-10T06:30:00Z"


def test_point_timestamp_without_an_offset_is_refused(experiments_api):
    run = experiments_api.start()
    body = {"points": [point("loss", 0.4, 0, timestamp="2026-03-10T12:00:00")]}
    assert experiments_api.post(run_url(run["run_id"], "metrics"), body).status_code == 422
    assert experiments_api.history(run["run_id"], "loss") == []


def test_step_already_logged_refuses_the_whole_batch(experiments_api):
    run = experiments_api.start()
    experiments_api.log(run["run_id"], [point("loss", 0.9, 0)])
    body = {"points": [point("loss", 0.1, 1), point("loss", 0.2, 0)]}
    assert experiments_api.post(run_url(run["run_id"], "metrics"), body).status_code == 409
    assert [p["value"] for p in experiments_api.history(run["run_id"], "loss")] == [0.9]


def test_ended_run_accepts_no_points(experiments_api):
    run = experiments_api.start()
    experiments_api.end(run["run_id"])
    body = {"points": [point("loss", 0.1)]}
    assert experiments_api.post(run_url(run["run_id"], "metrics"), body).status_code == 409


def test_two_writers_appending_at_once_both_keep_every_point(experiments_api, monkeypatch):
    run_id = experiments_api.start()["run_id"]
    url = run_url(run_id, "metrics")
    answers = []
    interleaving_clock(
        monkeypatch,
        lambda: answers.append(experiments_api.post(url, {"points": [point("loss", 0.5)]})),
    )
    first = experiments_api.post(url, {"points": [point("loss", 0.9), point("loss", 0.8)]})
    assert [first.status_code, *(a.status_code for a in answers)] == [201, 201]
    values = sorted(p["value"] for p in experiments_api.history(run_id, "loss"))
    assert values == [0.5, 0.8, 0.9]


def test_two_writers_appending_at_once_get_distinct_steps(experiments_api, monkeypatch):
    run_id = experiments_api.start()["run_id"]
    url = run_url(run_id, "metrics")
    interleaving_clock(
        monkeypatch, lambda: experiments_api.post(url, {"points": [point("acc", 0.1)]})
    )
    experiments_api.post(url, {"points": [point("acc", 0.2)]})
    assert [p["step"] for p in experiments_api.history(run_id, "acc")] == [0, 1]


def test_writer_answer_counts_the_points_it_stored(experiments_api, monkeypatch):
    run_id = experiments_api.start()["run_id"]
    url = run_url(run_id, "metrics")
    interleaving_clock(
        monkeypatch, lambda: experiments_api.post(url, {"points": [point("f1", 0.3)]})
    )
    answer = experiments_api.post(url, {"points": [point("f1", 0.4), point("f1", 0.6)]})
    assert answer.json() == {"logged": 2}
    assert len(experiments_api.history(run_id, "f1")) == 3


def test_metric_values_are_finite_numbers(experiments_api):
    run = experiments_api.start()
    url = run_url(run["run_id"], "metrics")
    for value in ("1e400", '"0.5"', "true"):
        body = '{"points": [{"key": "loss", "value": ' + value + "}]}"
        assert experiments_api.post(url, body).status_code == 422, value
    assert experiments_api.history(run["run_id"], "loss") == []
