"""A run's life through the API: start, params, tags, end; times are instants in any zone."""

from __future__ import annotations

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]

INDIA_MORNING = "2026-03-10T10:00:00+05:30"  # 04:30 UTC


def test_started_run_is_running_with_its_seed_params_tags_and_start(experiments_api):
    run = experiments_api.start(
        seed=42, params={"epochs": 5}, tags={"team": "growth"}, started_at=INDIA_MORNING
    )
    assert (run["status"], run["seed"], run["params"], run["tags"]) == (
        "running",
        42,
        {"epochs": 5},
        {"team": "growth"},
    )
    assert (run["started_at"], run["finished_at"]) == ("2026-03-10T04:30:00Z", None)


def test_start_time_sent_with_an_offset_is_the_same_instant_in_utc(experiments_api):
    run = experiments_api.start(started_at=INDIA_MORNING)
    assert run["started_at"] == "2026-03-10T04:30:00Z"


def test_run_read_back_shows_the_instant_it_started(experiments_api):
    run = experiments_api.start(started_at="2026-03-10T08:15:00-04:00")
    body = experiments_api.ok(experiments_api.get(run_url(run["run_id"])))
    assert body["started_at"] == "2026-03-10T12:15:00Z"


def test_end_time_from_another_zone_keeps_the_instant(experiments_api):
    run = experiments_api.start(started_at="2026-03-10T00:00:00Z")
    ended = experiments_api.end(run["run_id"], finished_at="2026-03-10T06:00:00+05:30")
    assert ended["finished_at"] == "2026-03-10T00:30:00Z"


def test_run_may_end_after_its_start_written_in_another_zone(experiments_api):
    run = experiments_api.start(started_at=INDIA_MORNING)
    ended = experiments_api.end(run["run_id"], finished_at="2026-03-10T05:00:00Z")
    assert ended["status"] == "finished"


def test_run_may_not_end_before_it_started(experiments_api):
    run = experiments_api.start(started_at="2026-03-10T05:00:00Z")
    response = experiments_api.post(
        run_url(run["run_id"], "end"),
        {"status": "finished", "finished_at": "2026-03-10T10:00:00+05:30"},
    )
    assert response.status_code == 422


def test_start_time_without_an_offset_is_refused(experiments_api):
    response = experiments_api.post(
        RUNS, {"experiment": "churn", "started_at": "2026-03-10T10:00:00"}
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["started_at"]


def test_end_time_without_an_offset_is_refused(experiments_api):
    run = experiments_api.start(started_at="2026-03-10T00:00:00Z")
    response = experiments_api.post(
        run_url(run["run_id"], "end"), {"status": "finished", "finished_at": "2026-03-10T10:00"}
    )
    assert response.status_code == 422
    assert experiments_api.ok(experiments_api.get(run_url(run["run_id"])))["status"] == "running"


def test_failed_run_keeps_its_status_and_end(experiments_api):
    run = experiments_api.start(started_at="2026-03-10T00:00:00Z")
    ended = experiments_api.end(run["run_id"], "failed", finished_at="2026-03-10T01:00:00+01:00")
    assert (ended["status"], ended["finished_at"]) == ("failed", "2026-03-10T00:00:00Z")


def test_ending_a_run_twice_is_a_conflict(experiments_api):
    run = experiments_api.start()
    experiments_api.end(run["run_id"])
    response = experiments_api.post(run_url(run["run_id"], "end"), {"status": "failed"})
    assert response.status_code == 409


def test_param_logged_again_with_the_same_value_is_accepted(experiments_api):
    run = experiments_api.start(params={"epochs": 10})
    response = experiments_api.post(
        run_url(run["run_id"], "params"), '{"params": {"epochs": 10.0}}'
    )
    assert experiments_api.ok(response)["params"]["epochs"] == 10


def test_param_logged_again_with_a_nearby_value_is_a_conflict(experiments_api):
    run = experiments_api.start(params={"lr": 0.1})
    body = '{"params": {"lr": 0.10000000000000001}}'
    assert experiments_api.post(run_url(run["run_id"], "params"), body).status_code == 409


def test_params_of_an_ended_run_are_frozen(experiments_api):
    run = experiments_api.start()
    experiments_api.end(run["run_id"])
    response = experiments_api.post(run_url(run["run_id"], "params"), {"params": {"lr": 1}})
    assert response.status_code == 409


def test_artifact_references_are_recorded_once_per_path(experiments_api):
    run = experiments_api.start()
    url = run_url(run["run_id"], "artifacts")
    ref = {"path": "model.npz", "uri": "s3://artifacts/churn/model.npz"}
    experiments_api.ok(experiments_api.post(url, ref), 201)
    elsewhere = {**ref, "uri": "s3://artifacts/other.npz"}
    assert experiments_api.post(url, elsewhere).status_code == 409
    assert [a["path"] for a in experiments_api.ok(experiments_api.get(url))] == ["model.npz"]
