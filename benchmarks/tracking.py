"""Monitoring ingest and run-search benchmarks; numbers, not asserts.

    python -m benchmarks monitoring [--events N] [--metrics K]
    python -m benchmarks experiments [--runs N] [--queries Q]

`monitoring` publishes N completed training jobs of K metrics each (N*K metric points) on
training.jobs and times monitoring's ingestor storing them: on the embedded defaults (the
in-memory bus, SQLite in a temporary folder) and, when `python -m infra env` is exported, on
the real stack (Kafka, PostgreSQL metrics_db; its rows are deleted afterwards). Its consumer
group starts at the end of the topics, so it reads only the benchmark's events.

`experiments` indexes N run documents (params, tags, metrics) into a scratch index with the
experiments mapping and times `GET /api/v1/search/runs` through the experiments app in this
process (Django view and search port, no HTTP) and the search function alone, for several
filters, Q requests each, p50 and p99: on Elasticsearch when the stack's variables are
exported, and on the in-memory index for comparison (a linear scan: at most 1,000 runs and 20
requests). The scratch index is deleted afterwards.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import delete, func, select

from shared import backends
from shared.events.base import EventBus
from shared.events.schema import EventType, make_event, publish_event
from shared.infra_settings import InfraSettings, sqlalchemy_url
from shared.search.base import SearchIndex
from shared.search.mappings import EXPERIMENTS_INDEX
from shared.utils.timeutils import isoformat, utcnow

TEAMS = ("risk", "growth", "fraud", "ops")
WORDS = ("dropout", "sweep", "baseline", "wide", "deep", "churn", "warmup", "ablation")
SEARCHES: dict[str, dict[str, Any]] = {
    "experiment only": {"experiment": "exp-3"},
    "words": {"q": "dropout sweep"},
    "param": {"param": "lr:0.01"},
    "metric range": {"metric": "accuracy>=0.95"},
    "param+tag+metric": {"param": "layers:4", "tag": "team:risk", "metric": "loss<0.2"},
}


def real_stack() -> bool:
    """Return whether the stack's variables are exported (`eval "$(python -m infra env)"`)."""
    return os.environ.get("SYNAPSE_EVENTS_BACKEND") == "kafka"


def milliseconds(seconds: list[float]) -> tuple[float, float]:
    """Return p50 and p99 of latencies, in milliseconds."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


# -- monitoring --------------------------------------------------------------------------


def job_events(model: str, events: int, metrics: int) -> list[Any]:
    """Return completed-job envelopes of one model, each reporting ``metrics`` numbers."""
    rng = random.Random(0)
    return [
        make_event(
            EventType.TRAINING_JOB_COMPLETED,
            {
                "job_id": f"job-{n}",
                "model_name": model,
                "model_version": n + 1,
                "metrics": {f"m{k}": rng.random() for k in range(metrics)},
            },
            source="training",
        )
        for n in range(events)
    ]


def at_the_end(bus: EventBus, group: str, within: float = 30.0) -> None:
    """Commit a new group's offsets at the end of the ingestor's topics."""
    from services.monitoring.events import TOPICS

    consumer = bus.subscribe(list(TOPICS), group, auto_offset_reset="latest")
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
            assigned = consumer.assignment()
            if assigned:
                consumer.commit()
                if all(consumer.committed(tp) is not None for tp in assigned):
                    return
        raise SystemExit(f"consumer group {group} was not assigned within {within} s")
    finally:
        consumer.close()


def ingest(label: str, bus: EventBus, database_url: str, events: int, metrics: int) -> None:
    """Publish the jobs, then time the ingestor storing them; print the rates."""
    from services.monitoring.config import Settings
    from services.monitoring.events import Ingestor
    from services.monitoring.main import build_session_factory
    from services.monitoring.store import EventRow, MetricPointRow

    model, group = f"bench-{uuid.uuid4().hex[:8]}", f"bench-monitoring-{uuid.uuid4().hex[:8]}"
    factory = build_session_factory(Settings(database_url=database_url, create_schema=True))
    at_the_end(bus, group)
    envelopes = job_events(model, events, metrics)
    started = time.perf_counter()
    for envelope in envelopes:
        publish_event(bus, envelope)
    published = time.perf_counter() - started
    ingestor = Ingestor(factory, lambda: bus, utcnow, group=group, batch_size=500)
    count = select(func.count()).select_from(EventRow).where(EventRow.model == model)
    stored, deadline = 0, time.monotonic() + 300
    started = time.perf_counter()
    while stored < events and time.monotonic() < deadline:
        stored += ingestor.drain()
    elapsed = time.perf_counter() - started
    ingestor.close()
    with factory() as session:
        if session.scalar(count) != events:
            raise SystemExit(f"{label}: stored {session.scalar(count)} of {events} events")
        session.execute(delete(MetricPointRow).where(MetricPointRow.model == model))
        session.execute(delete(EventRow).where(EventRow.model == model))
        session.commit()
    factory.kw["bind"].dispose()
    points = events * metrics
    print(
        f"{label:<34} {events} jobs x {metrics} metrics: published {events / published:7.0f} "
        f"events/s; ingested {events / elapsed:7.0f} events/s = {points / elapsed:8.0f} points/s"
    )


def monitoring(events: int, metrics: int) -> None:
    """Print metric points ingested per second, embedded defaults and (if exported) the stack."""
    from shared.bootstrap.steps import bootstrap_kafka
    from shared.events.memory import InMemoryEventBus

    memory = InMemoryEventBus()
    bootstrap_kafka(memory)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+pysqlite:///{folder}/metrics.sqlite3"
        ingest("in-memory bus -> SQLite", memory, url, events, metrics)
    if not real_stack():
        print("(export `python -m infra env` for Kafka -> PostgreSQL)")
        return
    settings = InfraSettings()
    bus = backends.create("events", "kafka", settings)
    try:
        url = sqlalchemy_url(settings.database_url("metrics_db"))
        ingest("Kafka -> PostgreSQL metrics_db", bus, url, events, metrics)
    finally:
        bus.close()


# -- experiments -------------------------------------------------------------------------


def run_documents(runs: int) -> Iterator[dict[str, Any]]:
    """Yield ``runs`` run documents of ten experiments with params, tags and metrics."""
    rng = random.Random(0)
    start = utcnow()
    for n in range(runs):
        yield {
            "run_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "experiment": f"exp-{n % 10}",
            "model_name": "churn",
            "status": rng.choice(("finished", "failed", "running")),
            "notes": " ".join(rng.sample(WORDS, 3)),
            "started_at": isoformat(start),
            "params": [
                {"key": "lr", "value": rng.choice(("0.1", "0.01", "0.001"))},
                {"key": "layers", "value": str(rng.randint(2, 8))},
            ],
            "tags": [{"key": "team", "value": rng.choice(TEAMS)}],
            "metrics": [
                {"key": "accuracy", "value": rng.random(), "step": 9},
                {"key": "loss", "value": rng.random(), "step": 9},
            ],
        }


@contextmanager
def scratch_runs_index(search: SearchIndex, runs: int) -> Iterator[str]:
    """Fill a scratch index (the experiments mapping) and point the service's searches at it."""
    from services.experiments import search as experiment_search

    name = f"bench-{uuid.uuid4().hex[:8]}-experiments"
    search.create_index(name, EXPERIMENTS_INDEX.mappings, EXPERIMENTS_INDEX.settings)
    previous = experiment_search.RUNS_INDEX
    try:
        for document in run_documents(runs):
            search.index(name, document["run_id"], document, refresh=False)
        search.index(name, "last", {"run_id": "last", "experiment": "none"}, refresh=True)
        experiment_search.RUNS_INDEX = name
        yield name
    finally:
        experiment_search.RUNS_INDEX = previous
        search.delete_index(name)


def time_searches(label: str, search: SearchIndex, runs: int, queries: int) -> None:
    """Print p50/p99 of the search API and of the port alone for each filter."""
    from services.django_project.wsgi import get_wsgi_application_for
    from shared.clients.inprocess import InProcessTransport

    app = get_wsgi_application_for("experiments")
    with backends.use_backend("search", search):
        started = time.perf_counter()
        with scratch_runs_index(search, runs):
            filled = time.perf_counter() - started
            started = time.perf_counter()
            port_search(SEARCHES["experiment only"])
            first = time.perf_counter() - started
            print(f"{label}: {runs} runs indexed in {filled:.1f} s; first search {first:.2f} s")
            transport = InProcessTransport({"experiments": app})
            with httpx.Client(transport=transport, base_url="http://experiments") as client:
                for shape, params in SEARCHES.items():
                    api = timed(queries, functools.partial(api_search, client, params))
                    port = timed(queries, functools.partial(port_search, params))
                    hits = api_search(client, params)["total"]
                    print(
                        f"  {shape:<18} {hits:>6} hits  API p50 {api[0]:7.2f} ms p99 {api[1]:7.2f}"
                        f" ms | port p50 {port[0]:7.2f} ms p99 {port[1]:7.2f} ms"
                    )


def port_search(params: dict[str, Any]) -> object:
    """Run one search through the service's search function (no view, no request)."""
    from services.experiments import search as experiment_search
    from services.experiments.views import metric_filter, pair_filter

    return experiment_search.search_runs(
        text=params.get("q"),
        experiment=params.get("experiment"),
        status=None,
        size=20,
        params=[pair_filter("param", params["param"])] if "param" in params else [],
        tags=[pair_filter("tag", params["tag"])] if "tag" in params else [],
        metrics=[metric_filter(params["metric"])] if "metric" in params else [],
    )


def api_search(client: httpx.Client, params: dict[str, Any]) -> dict[str, Any]:
    """Return one search's body through the experiments app."""
    response = client.get("/api/v1/search/runs", params={"size": 20, **params})
    if response.status_code != 200:
        raise SystemExit(f"search {params}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


def timed(calls: int, call: Callable[[], object]) -> tuple[float, float]:
    """Run ``call`` after three warm-up calls; return p50 and p99 in milliseconds."""
    for _ in range(3):
        call()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return milliseconds(seconds)


def experiments(runs: int, queries: int) -> None:
    """Print run-search latency over ``runs`` runs: in memory and (if exported) Elasticsearch."""
    from shared.search.memory import InMemorySearchIndex

    # A linear scan per search: fewer runs and requests keep the in-memory series short.
    time_searches("in-memory index", InMemorySearchIndex(), min(runs, 1000), min(queries, 20))
    if not real_stack():
        print("(export `python -m infra env` for Elasticsearch)")
        return
    from shared.search.elasticsearch import ElasticsearchSearchIndex

    # A generous timeout: the first search after a bulk fill may take the server seconds.
    index = ElasticsearchSearchIndex(url=InfraSettings().elasticsearch_url, request_timeout=120)
    time_searches("Elasticsearch", index, runs, queries)


def main(argv: list[str] | None = None) -> int:
    """Run the monitoring or the experiments benchmark."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    monitor = sub.add_parser("monitoring", help="metric points ingested per second")
    monitor.add_argument("--events", type=positive, default=2000, help="completed jobs")
    monitor.add_argument("--metrics", type=positive, default=10, help="metrics per job")
    runs = sub.add_parser("experiments", help="run-search latency over many runs")
    runs.add_argument("--runs", type=positive, default=10_000, help="run documents")
    runs.add_argument("--queries", type=positive, default=20, help="timed requests per filter")
    args = parser.parse_args(argv)
    if args.command == "monitoring":
        monitoring(args.events, args.metrics)
    else:
        experiments(args.runs, args.queries)
    return 0


def positive(text: str) -> int:
    """Return a positive integer option, or refuse it."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
