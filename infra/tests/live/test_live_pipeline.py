"""The pipeline service on the real stack: a Celery worker process on a Redis broker, runs
triggered from Kafka, its tables in PostgreSQL and its announcements back on Kafka.

The API app runs in this process with its bus consumer (the dataset trigger) polling the
real ``storage.datasets`` topic; its step tasks go to a real ``celery worker`` subprocess
(solo pool) on a queue private to this run. One committed dataset version, announced twice,
triggers two pipelines: one validates and windows the records it reads from S3 and
succeeds, the other calls a feature store that is down, exhausts its attempts and is
dead-lettered. Every wait polls the run through the API, with a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from infra.stack import REAL_BACKENDS
from infra.tests.live.support import PIPELINE_QUEUE_VARIABLE as QUEUE_VARIABLE
from infra.tests.live.support import RUN, unique
from infra.tests.live.test_live_platform import real
from shared import backends
from shared.bootstrap.runner import run_steps
from shared.events.schema import EventType, make_event, publish_event, read_event
from shared.infra_settings import InfraSettings, sqlalchemy_url
from shared.storage.bootstrap import DATASETS_BUCKET

ROOT = Path(__file__).resolve().parents[3]
WORKER_BOOT = 40.0
RUN_DEADLINE = 30.0
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def redis_db(url: str, number: int) -> str:
    """Return the Redis URL with another database number."""
    return url.rsplit("/", 1)[0] + f"/{number}"


@pytest.fixture(scope="module")
def live(infra_settings) -> Iterator[InfraSettings]:
    """Bootstrap topics and buckets; serve the events and storage ports from the stack."""
    settings = real(infra_settings)
    results = run_steps(["kafka", "storage"], settings=settings)
    assert all(result.ok for result in results), [result.line() for result in results]
    adapters = {port: backends.create(port, settings=settings) for port in ("events", "storage")}
    with (
        backends.use_backend("events", adapters["events"]),
        backends.use_backend("storage", adapters["storage"]),
    ):
        yield settings
    adapters["events"].close()


@pytest.fixture(scope="module")
def pipeline_env(live) -> dict[str, str]:
    """Return the SYNAPSE_PIPELINE_* settings the API process and the worker share."""
    return {
        "SYNAPSE_PIPELINE_DATABASE_URL": sqlalchemy_url(live.database_url("models_db")),
        "SYNAPSE_PIPELINE_BROKER_URL": redis_db(live.redis_url, 2),
        "SYNAPSE_PIPELINE_RESULT_BACKEND": redis_db(live.redis_url, 3),
        "SYNAPSE_PIPELINE_TASK_ALWAYS_EAGER": "false",
        "SYNAPSE_PIPELINE_EVENTS_GROUP": unique("live-pipeline-trigger"),
        "SYNAPSE_PIPELINE_POLL_INTERVAL": "0.2",
        "SYNAPSE_PIPELINE_MAX_ATTEMPTS": "3",
        "SYNAPSE_PIPELINE_BACKOFF_BASE": "0.05",
        # Nothing listens there: the feature store is down for the whole run.
        "SYNAPSE_PIPELINE_FEATURES_URL": "http://127.0.0.1:9",
        QUEUE_VARIABLE: unique("live-pipeline-steps"),
    }


@pytest.fixture(scope="module")
def api(pipeline_env, live) -> Iterator[TestClient]:
    """The pipeline API in this process, its trigger consuming the real topic."""
    from services.pipeline.config import Settings
    from services.pipeline.main import create_app

    fields = {
        k.removeprefix("SYNAPSE_PIPELINE_").lower(): v
        for k, v in pipeline_env.items()
        if k.startswith("SYNAPSE_PIPELINE_")
    }
    app = create_app(Settings(**fields), executors={})
    app.state.celery.conf.task_default_queue = pipeline_env[QUEUE_VARIABLE]
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def worker(api, pipeline_env, tmp_path_factory) -> Iterator[subprocess.Popen]:
    """A `celery worker` process (solo pool) on the run's queue, stopped within a bound."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    name = f"live-pipeline-{RUN}@localhost"
    env = {**os.environ, **REAL_BACKENDS, **pipeline_env}
    command = [
        sys.executable, "-m", "celery", "-A", "infra.tests.live.pipeline_worker", "worker",
        "--pool=solo", "-c", "1", "-Q", pipeline_env[QUEUE_VARIABLE], "-n", name,
        "--without-gossip", "--without-mingle", "-l", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    celery = api.app.state.celery
    try:
        deadline = time.monotonic() + WORKER_BOOT
        while not celery.control.ping(destination=[name], timeout=0.5):
            assert process.poll() is None, f"the worker exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no worker answered:\n{log.read_text()[-3000:]}"
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        queue = pipeline_env[QUEUE_VARIABLE]
        with celery.connection_for_write() as connection:
            connection.default_channel.client.delete(queue, f"_kombu.binding.{queue}")


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def record(minutes: float, value: int) -> dict[str, Any]:
    return {"ts": (T0 + timedelta(minutes=minutes)).isoformat(), "value": value}


def wait_for_run(api: TestClient, pipeline: str, within: float = RUN_DEADLINE) -> dict[str, Any]:
    """Poll the pipeline's runs until one finished; return it (as the API shows it)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        page = api.get(f"/api/v1/pipelines/{pipeline}/runs").json()
        done = [run for run in page["items"] if run["status"] in ("succeeded", "failed")]
        if done:
            return api.get(f"/api/v1/runs/{done[0]['id']}").json()
        time.sleep(0.1)  # the next poll of observable state, bounded by the deadline
    raise AssertionError(f"no run of {pipeline} finished within {within:g}s: {page}")


@pytest.fixture(scope="module")
def flow(api, worker, live) -> Iterator[dict[str, Any]]:
    """Announce one dataset version twice; wait for the runs of both pipelines to finish."""
    from services.pipeline.store import DefinitionRow, LineageRow, RunRow, StepRunRow

    dataset, version = unique("live-clicks"), "v1"
    good, broken = unique("live-hourly"), unique("live-broken")
    store = backends.get_storage()
    parts = [
        [record(1, 2), record(5, 3), record(70, 4)],
        [record(2, 10), record(65, 20)],
    ]
    names = [f"{dataset}/{version}/part-{n}.jsonl" for n in range(len(parts))]
    try:
        for name, part in zip(names, parts, strict=True):
            store.put(DATASETS_BUCKET, name, jsonl(part))
        check = {"name": "check", "kind": "validate", "depends_on": [], "params": {}}
        hourly = {
            "name": "hourly",
            "kind": "transform",
            "depends_on": ["check"],
            "params": {"window_seconds": 3600, "allowed_lateness_seconds": 3600},
        }
        features = {
            "name": "features",
            "kind": "materialize",
            "depends_on": ["check"],
            "params": {"feature_views": ["clicks_hourly"]},
        }
        for name, steps in ((good, [check, hourly]), (broken, [check, features])):
            body = {"name": name, "steps": steps, "trigger": {"dataset": dataset}}
            answer = api.post("/api/v1/pipelines", json=body)
            assert answer.status_code == 201, answer.text
        data = {"dataset": dataset, "version": version, "namespace": "datasets"}
        for _ in range(2):  # the same commit announced twice (a redelivery)
            event = make_event(
                EventType.DATASET_VERSION_COMMITTED,
                {**data, "objects": len(names), "size": 100},
                source="storage",
            )
            publish_event(backends.get_bus(), event)
        started = time.monotonic()
        runs = {"good": wait_for_run(api, good), "broken": wait_for_run(api, broken)}
        yield {
            "dataset": dataset,
            "good": good,
            "broken": broken,
            "runs": runs,
            "seconds": time.monotonic() - started,
        }
    finally:
        for name in names:
            store.delete(DATASETS_BUCKET, name)
        with api.app.state.pipelines.catalog.session_factory.begin() as session:
            ids = [r.id for r in session.query(RunRow).filter(RunRow.dataset == dataset)]
            session.execute(delete(LineageRow).where(LineageRow.run_id.in_(ids)))
            session.execute(delete(StepRunRow).where(StepRunRow.run_id.in_(ids)))
            session.execute(delete(RunRow).where(RunRow.id.in_(ids)))
            session.execute(delete(DefinitionRow).where(DefinitionRow.name.in_([good, broken])))


@pytest.fixture(scope="module")
def announced(flow, live) -> dict[str, list]:
    """Read the pipeline topics from the start with a new group; this run's events by topic."""
    run_ids = {run["id"] for run in flow["runs"].values()}
    bus = backends.create("events", settings=live)
    topics = ["pipeline.runs", "pipeline.dead-letters"]
    consumer = bus.subscribe(topics, unique("live-observer"), "earliest")
    found, deadline = [], time.monotonic() + 15
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(max_records=500, timeout_ms=300)
            found += [(e.topic, read_event(e)) for e in batch]
            mine = {topic for topic, e in found if e.data.get("run_id") in run_ids}
            if not batch and consumer.assignment() and mine == set(topics):
                break
    finally:
        consumer.close()
        bus.close()
    by_topic: dict[str, list] = {topic: [] for topic in topics}
    for topic, envelope in found:
        if envelope.data.get("run_id") in run_ids:
            by_topic[topic].append(envelope)
    return by_topic


def test_a_committed_dataset_version_triggers_a_run_that_succeeds(flow):
    run = flow["runs"]["good"]
    assert run["status"] == "succeeded", run
    assert run["trigger"] == "event"
    steps = {s["name"]: s for s in run["steps"]}
    assert steps["check"]["output"]["records"] == 5
    assert steps["check"]["output"]["partitions"] == 2
    windows = steps["hourly"]["output"]["windows"]
    assert [(w["count"], w["sum"]) for w in windows] == [(3, "15"), (2, "24")]


def test_the_duplicate_event_starts_no_second_run_and_runs_no_step_twice(api, flow):
    for pipeline in (flow["good"], flow["broken"]):
        page = api.get(f"/api/v1/pipelines/{pipeline}/runs").json()
        assert page["total"] == 1, page
    good = flow["runs"]["good"]
    assert {s["name"]: s["attempts"] for s in good["steps"]} == {"check": 1, "hourly": 1}
    assert {s["name"]: s["attempts"] for s in flow["runs"]["broken"]["steps"]} == {
        "check": 1,
        "features": 3,
    }


def test_a_step_failing_on_every_attempt_is_dead_lettered_on_kafka(flow, announced):
    run = flow["runs"]["broken"]
    assert run["status"] == "failed"
    assert "features" in run["error"] and "3 attempt" in run["error"]
    letters = announced["pipeline.dead-letters"]
    assert [(e.type, e.data["step"], e.data["attempts"]) for e in letters] == [
        (EventType.PIPELINE_STEP_DEAD_LETTERED, "features", 3)
    ]


def test_the_runs_are_announced_on_kafka(flow, announced):
    good = flow["runs"]["good"]["id"]
    events = announced["pipeline.runs"]
    seen = sorted((e.data["run_id"] == good, e.type.value) for e in events)
    assert seen == [
        (False, EventType.PIPELINE_RUN_FAILED.value),
        (False, EventType.PIPELINE_RUN_STARTED.value),
        (True, EventType.PIPELINE_RUN_STARTED.value),
        (True, EventType.PIPELINE_RUN_SUCCEEDED.value),
    ]


def test_the_runs_and_their_seeds_are_stored_in_postgresql(api, flow):
    from services.pipeline.store import RunRow

    factory = api.app.state.pipelines.catalog.session_factory
    with factory() as session:
        assert session.get_bind().dialect.name == "postgresql"
        rows = session.query(RunRow).filter(RunRow.dataset == flow["dataset"]).all()
        stored = {row.id: row.seed for row in rows}
    assert stored == {run["id"]: run["seed"] for run in flow["runs"].values()}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/v1/pipelines", b"{steps:", 400),
        ("POST", "/api/v1/pipelines", b'{"name": "x", "steps": "none"}', 422),
        (
            "POST",
            "/api/v1/pipelines",
            b'{"name": "x", "steps": [{"name": "a", "kind": "a", "depends_on": ["a"]}]}',
            400,
        ),
        ("POST", "/api/v1/pipelines/x/runs", b'{"dataset": "d"}', 422),
        ("GET", "/api/v1/lineage?dataset=d&model=m", None, 422),
        ("GET", "/api/v1/runs/" + "r" * 40, None, 422),
    ],
)
def test_malformed_pipeline_requests_are_4xx_problems(api, flow, method, path, body, status):
    headers = {"Content-Type": "application/json"}
    answer = api.request(method, path, content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"]
