"""Experiment tracking on the real stack: experiments_db on PostgreSQL, run search on Elasticsearch.

The experiments service runs in-process (its WSGI app through the in-process transport) on the
stack's experiments_db, with the search port on the real Elasticsearch (indices bootstrapped)
and the bus on Kafka. Concurrent writers log metric batches to one run on real row locks;
runs are searched by param, tag and metric through the API, compared, and started and ended by
clients in two time zones. The module deletes its experiments (runs, params, tags and metric
points with them) and their run documents.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from infra.stack import REAL_BACKENDS
from infra.tests.live.support import unique
from infra.tests.live.test_live_postgres import django_postgres  # noqa: F401 (fixture)
from services.experiments.search import RUNS_INDEX
from shared import backends
from shared.bootstrap.runner import run_steps
from shared.clients.inprocess import InProcessTransport
from shared.infra_settings import InfraSettings

WRITERS, BATCHES, POINTS = 4, 5, 10


def real(settings: InfraSettings) -> InfraSettings:
    """Return the settings with every port on its real backend (what `infra env` exports)."""
    fields = {name.removeprefix("SYNAPSE_").lower(): value for name, value in REAL_BACKENDS.items()}
    return settings.model_copy(update=fields)


class Live:
    """A client of the experiments service and the experiments this module made."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.experiments: list[str] = []

    def client(self) -> httpx.Client:
        transport = InProcessTransport({"experiments": self.app})
        return httpx.Client(transport=transport, base_url="http://experiments")

    def experiment(self) -> str:
        name = unique("live-exp")
        self.experiments.append(name)
        return name


@pytest.fixture(scope="module")
def live(infra_settings, django_postgres) -> Iterator[Live]:  # noqa: F811
    from services.django_project.wsgi import get_wsgi_application_for

    settings = real(infra_settings)
    results = run_steps(["kafka", "search"], settings=settings)
    assert all(result.ok for result in results), [result.line() for result in results]
    with ExitStack() as stack:
        for port in ("search", "events"):
            adapter = backends.create(port, settings=settings)
            stack.enter_context(backends.use_backend(port, adapter))
            if hasattr(adapter, "close"):
                stack.callback(adapter.close)
        state = Live(get_wsgi_application_for("experiments"))
        yield state
        cleanup(state)


def cleanup(live: Live) -> None:
    from django.db import connections

    from services.experiments.models import Experiment, Run

    rows = Experiment.objects.filter(name__in=live.experiments)
    run_ids = list(Run.objects.filter(experiment__in=rows).values_list("run_id", flat=True))
    rows.delete()
    search = backends.get_search()
    for run_id in run_ids:
        search.delete(RUNS_INDEX, run_id)
    connections.close_all()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def start(client: httpx.Client, experiment: str, **fields: Any) -> str:
    body = {"experiment": experiment, **fields}
    return ok(client.post("/api/v1/runs", json=body), 201)["run_id"]


def log(client: httpx.Client, run_id: str, points: list[dict[str, Any]]) -> None:
    ok(client.post(f"/api/v1/runs/{run_id}/metrics", json={"points": points}), 201)


def test_experiments_run_on_postgres_and_search_on_elasticsearch(live):
    from django.db import connections

    assert connections["experiments_db"].vendor == "postgresql"
    assert type(backends.get_search()).__name__ == "ElasticsearchSearchIndex"
    mapping = backends.get_search().get_mapping(RUNS_INDEX)
    assert mapping["properties"]["params"]["type"] == "nested"


def test_concurrent_writers_lose_no_metric_point(live):
    with live.client() as client:
        run_id = start(client, live.experiment())
    barrier = threading.Barrier(WRITERS)
    failures: list[str] = []

    def writer(n: int) -> None:
        from django.db import connections

        try:
            with live.client() as client:
                barrier.wait(timeout=10)
                for batch in range(BATCHES):
                    points = [
                        {"key": "loss", "value": n + batch / 10},
                        {"key": f"writer-{n}", "value": batch},
                    ] * (POINTS // 2)
                    answer = client.post(f"/api/v1/runs/{run_id}/metrics", json={"points": points})
                    if answer.status_code != 201:
                        failures.append(answer.text)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=45)
    assert failures == []
    with live.client() as client:
        loss = ok(client.get(f"/api/v1/runs/{run_id}/metrics", params={"key": "loss"}))
        own = ok(client.get(f"/api/v1/runs/{run_id}/metrics", params={"key": "writer-2"}))
    total = WRITERS * BATCHES * POINTS // 2
    assert [p["step"] for p in loss] == list(range(total))
    assert [p["step"] for p in own] == list(range(BATCHES * POINTS // 2))


def search(client: httpx.Client, **params: Any) -> set[str]:
    body = ok(client.get("/api/v1/search/runs", params={"size": 100, **params}))
    return {hit["run_id"] for hit in body["items"]}


def test_runs_are_searched_by_param_tag_and_metric_from_elasticsearch(live):
    experiment = live.experiment()
    with live.client() as client:
        wide = start(client, experiment, params={"lr": 0.1, "layers": 4}, tags={"team": "risk"})
        deep = start(client, experiment, params={"lr": 0.01, "layers": 8}, tags={"team": "risk"})
        other = start(client, experiment, params={"lr": 0.1, "layers": 2})
        ok(client.post(f"/api/v1/runs/{other}/tags", json={"tags": {"team": "growth"}}))
        for run_id, finals in ((wide, [0.7, 0.91]), (deep, [0.8, 0.85]), (other, [0.95])):
            log(client, run_id, [{"key": "accuracy", "value": v} for v in finals])
        ok(client.post(f"/api/v1/runs/{deep}/end", json={"status": "finished"}))
        mine = {"experiment": experiment}
        assert search(client, **mine, param="lr:0.1") == {wide, other}
        assert search(client, **mine, param="lr:0.100", tag="team:risk") == {wide}
        assert search(client, **mine, metric="accuracy>=0.9") == {wide, other}
        assert search(client, **mine, metric="accuracy<0.9", status="finished") == {deep}
        assert search(client, **mine, tag="team:growth", param="layers:2.0") == {other}
    document = backends.get_search().get(RUNS_INDEX, wide)
    assert document["experiment"] == experiment
    assert {(m["key"], m["value"], m["step"]) for m in document["metrics"]} == {
        ("accuracy", 0.91, 1)
    }


def test_runs_are_compared_exactly(live):
    experiment = live.experiment()
    with live.client() as client:
        first = start(client, experiment, params={"lr": 0.1, "epochs": 10})
        second = client.post(
            "/api/v1/runs",
            content=b'{"experiment": "' + experiment.encode() + b'", '
            b'"params": {"lr": 0.10000000000000001, "epochs": 10.0}}',
            headers={"Content-Type": "application/json"},
        )
        second_id = ok(second, 201)["run_id"]
        log(client, first, [{"key": "loss", "value": 0.3}, {"key": "loss", "value": 0.2}])
        log(client, second_id, [{"key": "loss", "value": 0.1}])
        body = {"run_ids": [first, second_id]}
        comparison = ok(client.post("/api/v1/runs/compare", json=body))
    assert comparison["differing_params"] == ["lr"]
    (loss,) = comparison["metrics"]
    assert (loss["final"], loss["final_delta"], loss["best_run_id"]) == (
        ["0.2", "0.1"],
        "-0.1",
        second_id,
    )


def test_times_from_clients_in_two_zones_compare_as_instants(live):
    experiment = live.experiment()
    with live.client() as client:
        # 06:30Z from New York (just before its DST change), 06:00Z from Berlin.
        east = start(client, experiment, started_at="2026-03-08T01:30:00-05:00")
        west = start(client, experiment, started_at="2026-03-08T07:00:00+01:00")
        ended = client.post(
            f"/api/v1/runs/{east}/end",
            json={"status": "finished", "finished_at": "2026-03-08T07:15:00+01:00"},
        )
        assert ended.status_code == 422, ended.text  # 06:15Z: before its own start
        ok(
            client.post(
                f"/api/v1/runs/{east}/end",
                json={"status": "finished", "finished_at": "2026-03-08T03:45:00-04:00"},
            )
        )
        ok(
            client.post(
                f"/api/v1/runs/{west}/end",
                json={"status": "finished", "finished_at": "2026-03-08T08:00:00+01:00"},
            )
        )
        runs = ok(
            client.get(
                "/api/v1/runs",
                params={
                    "experiment": experiment,
                    "order_by": "started_at",
                    "finished_after": "2026-03-08T12:30:00+05:30",
                },
            )
        )
        hits = ok(client.get("/api/v1/search/runs", params={"experiment": experiment}))
    assert [(r["run_id"], r["started_at"], r["finished_at"]) for r in runs["items"]] == [
        (east, "2026-03-08T06:30:00Z", "2026-03-08T07:45:00Z")
    ]
    assert [hit["run_id"] for hit in hits["items"]] == [east, west]  # newest start first
