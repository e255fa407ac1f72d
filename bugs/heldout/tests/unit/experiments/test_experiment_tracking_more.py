"""More experiments behaviour on other zones, values, orderings and writers."""

from __future__ import annotations

import pytest

from services.experiments import services as tracking_services
from tests.utils.experiments import EXPERIMENTS_DB, RUNS, point, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def test_date_only_finished_after_is_refused(experiments_api):
    experiments_api.finished_run("2026-07-01T12:00:00+05:45", started_at="2026-07-01T00:00:00Z")
    assert experiments_api.get(RUNS, finished_after="2026-07-01").status_code == 422


def test_naive_start_with_microseconds_starts_nothing(experiments_api):
    body = {"experiment": "zoneless", "started_at": "2026-11-01T23:30:00.250000"}
    assert experiments_api.post(RUNS, body).status_code == 422
    assert experiments_api.runs(experiment="zoneless")["items"] == []


def test_naive_finished_before_is_refused(experiments_api):
    assert experiments_api.get(RUNS, finished_before="2026-07-01T08:00").status_code == 422


def test_dropouts_differing_in_the_seventeenth_digit_differ(experiments_api):
    a = experiments_api.ok(
        experiments_api.post(RUNS, '{"experiment": "d", "params": {"dropout": 0.7}}'), 201
    )
    b = experiments_api.ok(
        experiments_api.post(
            RUNS, '{"experiment": "d", "params": {"dropout": 0.69999999999999996}}'
        ),
        201,
    )
    assert experiments_api.compare(a["run_id"], b["run_id"])["differing_params"] == ["dropout"]


def test_three_run_accuracy_delta_is_exact(experiments_api):
    runs = [experiments_api.start("acc")["run_id"] for _ in range(3)]
    for run_id, value in zip(runs, (0.7, 0.8, 0.9), strict=True):
        experiments_api.log(run_id, [point("accuracy", value)])
    row = experiments_api.compare(*runs)["metrics"][0]
    assert (row["final_delta"], row["best_run_id"]) == ("0.2", runs[2])


def test_fork_of_a_large_seed_keeps_it_with_new_params(experiments_api):
    parent = experiments_api.start(seed=2**40 + 3, params={"depth": 6})
    fork = experiments_api.fork(parent["run_id"], params={"depth": 8}, name="deeper", seed=None)
    assert (fork["seed"], fork["params"]) == (2**40 + 3, {"depth": 8})


def test_interleaved_writer_on_two_keys_loses_no_point(experiments_api, monkeypatch):
    run_id = experiments_api.start()["run_id"]
    url = run_url(run_id, "metrics")
    real_now = tracking_services.now
    pending = [
        lambda: experiments_api.post(url, {"points": [point("lr", 0.01), point("acc", 0.6)]})
    ]

    def now():
        if pending:
            pending.pop()()
        return real_now()

    monkeypatch.setattr(tracking_services, "now", now)
    experiments_api.post(url, {"points": [point("acc", 0.5), point("lr", 0.02), point("acc", 0.7)]})
    assert len(experiments_api.history(run_id, "acc")) == 3
    assert len(experiments_api.history(run_id, "lr")) == 2


def test_huge_param_is_refused_and_the_listing_still_answers(experiments_api):
    experiments_api.start(params={"lr": 0.1})
    body = '{"experiment": "e", "params": {"scale": -2.5e308}}'
    assert experiments_api.post(RUNS, body).status_code == 422
    assert experiments_api.get(RUNS).status_code == 200


def test_huge_metric_in_a_later_batch_keeps_history_readable(experiments_api):
    run_id = experiments_api.start()["run_id"]
    experiments_api.log(run_id, [point("grad_norm", 1.5)])
    body = '{"points": [{"key": "grad_norm", "value": 9e999}]}'
    assert experiments_api.post(run_url(run_id, "metrics"), body).status_code == 422
    assert [p["value"] for p in experiments_api.history(run_id, "grad_norm")] == [1.5]


@pytest.mark.parametrize("ordering", ["model_name", "-experiment__created_at"])
def test_undocumented_orderings_answer_422(experiments_api, ordering):
    experiments_api.start(model_name="churn")
    assert experiments_api.get(RUNS, order_by=ordering).status_code == 422


def test_finished_run_cannot_be_finished_again(experiments_api):
    run_id = experiments_api.start(started_at="2026-02-01T00:00:00Z")["run_id"]
    experiments_api.end(run_id, finished_at="2026-02-01T01:00:00Z")
    again = experiments_api.post(run_url(run_id, "end"), {"status": "finished"})
    assert again.status_code == 409
    assert experiments_api.ok(experiments_api.get(run_url(run_id)))["finished_at"] == (
        "2026-02-01T01:00:00Z"
    )


def test_finished_run_refuses_points_at_named_steps(experiments_api):
    run_id = experiments_api.start()["run_id"]
    experiments_api.log(run_id, [point("bleu", 0.3, 5)])
    experiments_api.end(run_id)
    body = {"points": [point("bleu", 0.4, 6)]}
    assert experiments_api.post(run_url(run_id, "metrics"), body).status_code == 409
    assert [p["step"] for p in experiments_api.history(run_id, "bleu")] == [5]
