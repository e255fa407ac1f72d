"""The experiments API and its experiment.run.finished event keep their documented shapes."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from shared.backends import ports
from shared.events import schema
from tests.utils.events import drain
from tests.utils.experiments import EXPERIMENTS_DB, RUNS, point, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]

RUN_FIELDS = {
    "run_id",
    "experiment",
    "name",
    "status",
    "seed",
    "model_name",
    "notes",
    "parent_run_id",
    "started_at",
    "finished_at",
    "params",
    "tags",
}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Return a context: what the service defers until commit runs when the context ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True, using="experiments_db")


def finished_events() -> list[schema.EventEnvelope]:
    consumer = ports().bus.subscribe("experiments.runs", group_id="contract")
    return [schema.read_event(event) for event in drain(consumer)]


def test_ended_run_announces_its_experiment_id_status_and_utc_times(experiments_api, committed):
    with committed():
        run = experiments_api.start("churn", seed=9, started_at="2026-03-10T10:00:00+05:30")
        experiments_api.end(run["run_id"], finished_at="2026-03-10T11:00:00+05:30")
    [event] = finished_events()
    assert event.type.value == "experiment.run.finished" and event.source == "experiments"
    assert event.data == {
        "experiment": "churn",
        "run_id": run["run_id"],
        "status": "finished",
        "seed": 9,
        "started_at": "2026-03-10T04:30:00Z",
        "finished_at": "2026-03-10T05:30:00Z",
    }


def test_failed_fork_announces_the_seed_it_ran_with(experiments_api, committed):
    with committed():
        parent = experiments_api.start("churn", seed=31)
        fork = experiments_api.fork(parent["run_id"])
        experiments_api.end(fork["run_id"], "failed")
    [event] = finished_events()
    assert (event.data["run_id"], event.data["status"], event.data["seed"]) == (
        fork["run_id"],
        "failed",
        31,
    )


def test_run_body_has_the_contract_fields_and_utc_times(experiments_api):
    run = experiments_api.start(started_at="2026-03-10T12:00:00-05:00")
    assert set(run) == RUN_FIELDS
    assert run["started_at"] == "2026-03-10T17:00:00Z"


def test_run_listing_has_the_page_shape(experiments_api):
    experiments_api.finished_run("2026-03-10T05:00:00Z", started_at="2026-03-10T00:00:00Z")
    page = experiments_api.runs(limit=1, finished_after="2026-03-10T10:15:00+05:30")
    assert (set(page), page["total"], page["limit"]) == (
        {"items", "total", "limit", "offset"},
        1,
        1,
    )


def test_comparison_has_params_and_metrics_rows(experiments_api):
    body = '{"experiment": "e", "params": {"lr": 0.05}}'
    a = experiments_api.ok(experiments_api.post(RUNS, body), 201)["run_id"]
    body = '{"experiment": "e", "params": {"lr": 0.050000000000000003}}'
    b = experiments_api.ok(experiments_api.post(RUNS, body), 201)["run_id"]
    experiments_api.log(a, [point("loss", 0.4)])
    experiments_api.log(b, [point("loss", 0.1)])
    comparison = experiments_api.compare(a, b)
    assert comparison["params"] == [
        {"key": "lr", "values": ["0.05", "0.050000000000000003"], "differs": True}
    ]
    assert comparison["metrics"] == [
        {
            "key": "loss",
            "goal": "minimize",
            "final": ["0.4", "0.1"],
            "best": ["0.4", "0.1"],
            "final_delta": "-0.3",
            "best_run_id": b,
        }
    ]


def test_openapi_schema_lists_every_experiments_operation():
    document = SchemaGenerator(urlconf="services.experiments.urls").get_schema(
        request=None, public=True
    )
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert {"start_run", "log_metrics", "compare_runs", "fork_run", "search_runs"} <= operations
    assert json.dumps(document)  # serialisable as served


def test_errors_use_the_problem_shape(experiments_api):
    response = experiments_api.get(run_url("0" * 32, "lineage"))
    assert response.status_code == 404
    assert set(response.json()) == {"error", "detail"}
