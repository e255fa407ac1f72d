"""Hostile or malformed experiments input is a 4xx problem and stores nothing."""

from __future__ import annotations

import pytest

from services.experiments.models import Metric, Run
from tests.utils.experiments import EXPERIMENTS_DB, RUNS, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


@pytest.mark.parametrize(
    "ordering",
    ["notes", "experiment__description", "-parent__seed", "params__value", "tags__key"],
)
def test_listing_orders_only_by_documented_fields(experiments_api, ordering):
    experiments_api.start(notes="private remark", params={"lr": 0.1}, tags={"k": "v"})
    response = experiments_api.get(RUNS, order_by=ordering)
    assert response.status_code == 422
    assert "order_by" in response.json()["detail"]


@pytest.mark.parametrize("key", ["finished_after", "finished_before"])
def test_listing_time_filters_need_a_zone(experiments_api, key):
    response = experiments_api.get(RUNS, **{key: "2026-03-10 03:30:00"})
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["query", key]


def test_run_end_without_a_zone_is_refused_and_the_run_keeps_running(experiments_api):
    run = experiments_api.start(started_at="2026-03-09T00:00:00Z")
    body = {"status": "failed", "finished_at": "2026-03-10T03:30:00.000001"}
    assert experiments_api.post(run_url(run["run_id"], "end"), body).status_code == 422
    assert Run.objects.get(run_id=run["run_id"]).status == "running"


@pytest.mark.parametrize("value", ["1e400", "-1e309"], ids=["overflow", "negative-overflow"])
def test_metric_values_beyond_a_double_are_refused_and_reads_keep_working(experiments_api, value):
    run = experiments_api.start()
    body = '{"points": [{"key": "loss", "value": 0.5}, {"key": "loss", "value": ' + value + "}]}"
    assert experiments_api.post(run_url(run["run_id"], "metrics"), body).status_code == 422
    assert Metric.objects.count() == 0
    assert experiments_api.get(run_url(run["run_id"], "metrics"), key="loss").status_code == 200


def test_param_beyond_a_double_is_refused(experiments_api):
    body = '{"experiment": "e", "params": {"lr": 1e999}}'
    assert experiments_api.post(RUNS, body).status_code == 422
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"experiment": "e", "params": {"lr": NaN}}', 400),
        ('{"experiment": "e", "params": {"a\\u0000b": 1}}', 422),
        ('{"experiment": "e\'; DROP TABLE experiments_run;--"}', 422),
    ],
    ids=["nan", "nul-key", "sql-name"],
)
def test_bad_run_bodies_are_problems_and_start_nothing(experiments_api, body, status):
    response = experiments_api.post(RUNS, body)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert Run.objects.count() == 0
