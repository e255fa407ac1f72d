"""Run search by param, tag and last metric value: the index follows what each run logged."""

from __future__ import annotations

import json

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, point, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]
SEARCH = "/api/v1/search/runs"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the service defers to after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True, using="experiments_db")


def found(api, **filters) -> set[str]:
    """Return the run ids a search with these filters finds (checking the total counts them)."""
    body = api.ok(api.get(SEARCH, size=100, **filters))
    assert body["total"] == len(body["items"])
    return {hit["run_id"] for hit in body["items"]}


def test_runs_are_found_by_a_param_by_its_exact_value(experiments_api, committed):
    with committed():
        low = experiments_api.start(params={"lr": 0.1, "epochs": 10})["run_id"]
        near = experiments_api.start(params={"epochs": 10})["run_id"]
        raw = '{"params": {"lr": 0.10000000000000001, "optimizer": "adam"}}'
        logged = experiments_api.post(run_url(near, "params"), raw)
        assert logged.status_code == 200, logged.content
    assert found(experiments_api, param="lr:0.1") == {low}
    assert found(experiments_api, param="lr:0.10000000000000001") == {near}
    assert found(experiments_api, param="lr:0.100") == {low}
    assert found(experiments_api, param=["epochs:1e1", "optimizer:adam"]) == {near}


def test_runs_are_found_by_tag_and_last_metric_value_with_every_filter_holding(
    experiments_api, committed
):
    with committed():
        good = experiments_api.start(tags={"team": "risk"})["run_id"]
        fair = experiments_api.start(tags={"team": "risk"})["run_id"]
        other = experiments_api.start(tags={"team": "growth"})["run_id"]
        experiments_api.log(good, [point("accuracy", 0.5), point("accuracy", 0.93)])
        experiments_api.log(fair, [point("accuracy", 0.95), point("accuracy", 0.81)])
        experiments_api.log(other, [point("accuracy", 0.99)])
        experiments_api.post(run_url(other, "tags"), {"tags": {"team": "risk"}})
    assert found(experiments_api, metric="accuracy>=0.9") == {good, other}
    assert found(experiments_api, metric=["accuracy>0.8", "accuracy<0.9"]) == {fair}
    assert found(experiments_api, metric="accuracy=0.81") == {fair}
    assert found(experiments_api, tag="team:growth") == set()
    assert found(experiments_api, tag="team:risk", metric="accuracy<0.95") == {good, fair}


def test_metrics_sent_after_a_run_ended_are_refused_and_never_searchable(
    experiments_api, committed
):
    with committed():
        run = experiments_api.start()["run_id"]
        experiments_api.log(run, [point("loss", 0.4)])
        experiments_api.end(run)
        late = experiments_api.post(run_url(run, "metrics"), {"points": [point("loss", 0.1)]})
    assert late.status_code == 409
    assert found(experiments_api, metric="loss<0.2") == set()
    assert found(experiments_api, metric="loss=0.4", status="finished") == {run}


def test_a_metric_batch_with_an_infinite_value_is_refused_and_the_index_keeps_the_last_point(
    experiments_api, committed
):
    with committed():
        run = experiments_api.start()["run_id"]
        experiments_api.log(run, [point("loss", 0.4)])
        body = '{"points": [{"key": "loss", "value": 0.2}, {"key": "loss", "value": 1e999}]}'
        refused = experiments_api.post(run_url(run, "metrics"), body)
    assert refused.status_code == 422
    assert found(experiments_api, metric="loss=0.4") == {run}
    assert found(experiments_api, metric="loss<0.3") == set()


def test_a_run_started_with_a_time_without_offset_is_refused_and_never_indexed(
    experiments_api, committed
):
    with committed():
        body = {"experiment": "tz-sweep", "params": {"lr": 0.3}, "started_at": "2026-03-08T02:30"}
        refused = experiments_api.post(RUNS, json.dumps(body))
    assert refused.status_code == 422
    assert found(experiments_api, param="lr:0.3") == set()


def test_malformed_search_filters_are_422_problems(experiments_api):
    bad = [
        {"param": "lr"},
        {"param": "l r:0.1"},
        {"tag": ":risk"},
        {"metric": "accuracy~0.9"},
        {"metric": "accuracy>=high"},
        {"metric": "accuracy>=1e999"},
        {"param": ["a:1"] * 11},
        {"tag": "team:r\x00isk"},
    ]
    for params in bad:
        response = experiments_api.get(SEARCH, **params)
        assert response.status_code == 422, params
        assert response["content-type"] == "application/problem+json", params
        assert response.json()["detail"], params
