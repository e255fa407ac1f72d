"""Pipeline-service test helpers: step fakes, in-memory datasets, a wired app and its events.

    env = make_pipeline_env()
    env.define("daily", LINEAR)
    run = env.run("daily")                      # steps run eagerly through Celery
    assert run["status"] == "succeeded"

Executors are the service's injectable table of step kinds: ``fake_executors`` records every
call, validate and transform run the service's real code on ``MemoryDatasets``; a platform
flow uses the real training app (``platform_executors``) and the registry client.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.pipeline.config import Settings
from services.pipeline.executors import (
    RetryableStepError,
    StepContext,
    evaluate_step,
    register_step,
    train_step,
    training_payload,
    transform_step,
    validate_step,
)
from services.pipeline.main import build_session_factory, create_app, wire
from shared import backends
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.inprocess import ASGIBridgeTransport
from shared.clients.registry import RegistryClient
from shared.clients.training import TrainingClient
from shared.events.base import EventBus
from shared.events.schema import EventEnvelope, read_event
from tests.utils.asgi import LocalTestClient

MEMORY_DB = "sqlite+pysqlite:///:memory:"
T0 = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # the night New York falls back
PRODUCER_ZONE = timezone(timedelta(hours=5, minutes=30))
PIPELINES = "/api/v1/pipelines"
RUNS = "/api/v1/runs"
VERSION = "3f1c0a"
# Step tasks run inline through Celery; the trigger is polled by the tests themselves.
EAGER = {"task_always_eager": True, "result_backend": "cache+memory://", "consume": False}


def step(name: str, kind: str, *depends_on: str, **params: Any) -> dict[str, Any]:
    """Return one step declaration."""
    return {"name": name, "kind": kind, "depends_on": list(depends_on), "params": params}


# validate -> transform -> materialize -> train -> evaluate -> register
LINEAR = [
    step("check", "validate"),
    step("hourly", "transform", "check", window_seconds=3600),
    step("features", "materialize", "hourly", feature_views=["clicks_hourly"]),
    step("fit", "train", "features", model_name="churn"),
    step("score", "evaluate", "fit", min={"accuracy": 0.5}),
    step("publish", "register", "score"),
]

# validate -> train -> register: a small model trained for real by the training service
TRAIN_AND_REGISTER = [
    step("check", "validate"),
    step(
        "fit",
        "train",
        "check",
        model_name="churn",
        dataset={"n_samples": 48, "n_features": 3},
        hyperparams={"epochs": 2, "batch_size": 8},
    ),
    step("publish", "register", "fit"),
]


def at(minutes: float, base: datetime = T0) -> str:
    """Return the ISO time ``minutes`` after ``base`` (in UTC)."""
    return (base + timedelta(minutes=minutes)).isoformat()


def rec(minutes: float, value: Any = 1, **extra: Any) -> dict[str, Any]:
    """Return one input record ``minutes`` after T0, stamped in its producer's zone (+05:30)."""
    local = (T0 + timedelta(minutes=minutes)).astimezone(PRODUCER_ZONE)
    return {"ts": local.isoformat(), "value": value, **extra}


@dataclass
class ManualClock:
    """A UTC clock the test moves."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)


@dataclass
class MemoryDatasets:
    """Dataset versions as lists of partitions of raw records."""

    versions: dict[tuple[str, str], list[list[Any]]] = field(default_factory=dict)
    reads: int = 0

    def add(self, dataset: str, version: str, *partitions: list[Any]) -> None:
        """Store a version's partitions (one list of records each)."""
        self.versions[(dataset, version)] = [list(p) for p in partitions]

    def partitions(self, dataset: str, version: str) -> list[list[Any]]:
        """Return a version's partitions (a missing version reads as empty)."""
        self.reads += 1
        return [list(p) for p in self.versions.get((dataset, version), [[]])]


class WorkerDied(BaseException):
    """A worker process vanishing mid-step: nothing in the step can catch it."""


@dataclass
class Recorder:
    """Wrap executors: count calls per step, fail or die on chosen attempts."""

    calls: Counter[str] = field(default_factory=Counter)
    contexts: list[StepContext] = field(default_factory=list)
    # step -> errors raised by its next calls, in order (an exception class or instance).
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    # step -> a callback run inside the step before it returns (to deliver duplicates).
    during: dict[str, Callable[[StepContext], None]] = field(default_factory=dict)

    def wrap(self, inner: Callable[[StepContext], dict[str, Any]]) -> Callable:
        """Return ``inner`` recorded."""

        def run(ctx: StepContext) -> dict[str, Any]:
            self.calls[ctx.step] += 1
            self.contexts.append(ctx)
            pending = self.failures.get(ctx.step)
            if pending:
                raise pending.pop(0)
            hook = self.during.get(ctx.step)
            if hook is not None:
                hook(ctx)
            return inner(ctx)

        return run

    def fail(self, step_name: str, *errors: BaseException) -> None:
        """Make the next calls of a step raise ``errors`` in order."""
        self.failures.setdefault(step_name, []).extend(errors)


def transient(message: str = "upstream restarting") -> RetryableStepError:
    """Return an error another attempt may get past."""
    return RetryableStepError(message)


class RegistryDouble:
    """One registry for a flow: training registers into it, the registry client reads it."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, int], dict[str, Any]] = {}

    def production_version(self, name: str) -> int | None:
        return None

    def register_version(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        version = 1 + sum(1 for (model, _) in self.records if model == name)
        record = {"name": name, "version": version, "stage": "None", **payload}
        self.records[(name, version)] = record
        return record

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if len(parts) == 6 and parts[2] == "registered-models" and parts[4] == "versions":
            record = self.records.get((parts[3], int(parts[5])))
            if record is not None:
                return httpx.Response(200, json=record)
        return httpx.Response(404, json={"error": "not_found", "detail": "no such version"})

    def client(self) -> RegistryClient:
        """Return the typed registry client over this double, one attempt per request."""
        return RegistryClient(_service("registry", httpx.MockTransport(self.handle)))


def _service(name: str, transport: httpx.BaseTransport) -> ServiceClient:
    return ServiceClient(
        name,
        discovery=StaticDiscovery({name: f"http://{name}"}),
        transport=transport,
        retry=RetryPolicy(max_attempts=1),
        sleep=lambda _: None,
    )


@dataclass
class FakeModels:
    """A training stand-in that registers each model it "trains" in a registry double."""

    registry: RegistryDouble = field(default_factory=lambda: RegistryDouble())
    metrics: dict[str, float] = field(default_factory=lambda: {"accuracy": 0.9})
    payloads: list[dict[str, Any]] = field(default_factory=list)

    def train(self, ctx: StepContext) -> dict[str, Any]:
        payload = training_payload(ctx)
        self.payloads.append(payload)
        name = payload["model_name"]
        record = self.registry.register_version(name, {"artifact_uri": f"{name}/model.npz"})
        return {
            "job_id": f"job-{ctx.run_id}",
            "model_name": name,
            "model_version": record["version"],
            "metrics": dict(self.metrics),
        }

    @staticmethod
    def materialize(ctx: StepContext) -> dict[str, Any]:
        views = list(ctx.params.get("feature_views", []))
        return {"feature_views": views, "rows": {v: 3 for v in views}}


def fake_executors(
    datasets: MemoryDatasets, recorder: Recorder, models: FakeModels | None = None
) -> dict[str, Callable]:
    """Return the kind table: real validate/transform/evaluate on memory data, fakes beside."""
    models = models or FakeModels()
    table = {
        "validate": validate_step(datasets),
        "transform": transform_step(datasets),
        "materialize": models.materialize,
        "train": models.train,
        "evaluate": evaluate_step,
        "register": register_step(models.registry.client()),
    }
    return {kind: recorder.wrap(run) for kind, run in table.items()}


@dataclass
class PipelineEnv:
    """A pipeline app wired for tests, with handles on its doubles."""

    app: FastAPI
    client: TestClient
    clock: ManualClock
    sleeps: list[float]
    datasets: MemoryDatasets
    recorder: Recorder
    bus: EventBus

    @property
    def trigger(self) -> Any:
        """Return the app's bus consumer of dataset versions."""
        return self.app.state.pipelines.trigger

    def define(
        self, name: str, steps: list[dict[str, Any]], trigger: str | None = None
    ) -> dict[str, Any]:
        """Declare a pipeline (asserting 200/201) and return its version."""
        body: dict[str, Any] = {"name": name, "steps": steps}
        if trigger is not None:
            body["trigger"] = {"dataset": trigger}
        response = self.client.post(PIPELINES, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def start(self, name: str, dataset: str = "clicks", data_version: str = VERSION, **kw: Any):
        """POST a run and return the response."""
        body = {"dataset": dataset, "dataset_version": data_version, **kw}
        return self.client.post(f"{PIPELINES}/{name}/runs", json=body)

    def run(self, name: str, dataset: str = "clicks", data_version: str = VERSION, **kw: Any):
        """Start a run and return it as the API answers: steps run eagerly before the answer."""
        response = self.start(name, dataset, data_version, **kw)
        assert response.status_code == 202, response.text
        return dict(response.json())

    def get_run(self, run_id: str) -> dict[str, Any]:
        """GET one run (asserting 200)."""
        response = self.client.get(f"{RUNS}/{run_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def steps(self, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Return a run's steps by name."""
        return {s["name"]: s for s in run["steps"]}

    def events(self, topic: str = "pipeline.runs") -> list[EventEnvelope]:
        """Return every envelope published on ``topic`` so far."""
        consumer = self.bus.subscribe([topic], f"test-{next(_groups)}", "earliest")
        found = []
        while batch := consumer.poll(max_records=500):
            found.extend(read_event(event) for event in batch)
        consumer.close()
        return found


_groups = itertools.count()


def make_pipeline_env(
    *,
    executors: dict[str, Callable] | None = None,
    datasets: MemoryDatasets | None = None,
    recorder: Recorder | None = None,
    models: FakeModels | None = None,
    sleeper: Callable[[float], None] | None = None,
    **overrides: Any,
) -> PipelineEnv:
    """Build the pipeline app on a fresh in-memory database with eager step tasks.

    Backoff pauses are recorded in ``env.sleeps``, then handed to ``sleeper`` when given
    (a test's way to act while a step waits between attempts).
    """
    values: dict[str, Any] = {**EAGER, "database_url": MEMORY_DB}
    values.update(overrides)
    datasets = datasets or MemoryDatasets()
    recorder = recorder or Recorder()
    clock = ManualClock()
    sleeps: list[float] = []

    def pause(seconds: float) -> None:
        sleeps.append(seconds)
        if sleeper is not None:
            sleeper(seconds)

    ids = (f"run-{n:04d}" for n in itertools.count(1))
    bus = backends.get_bus()
    settings = Settings(**values)
    app = shared_app()
    wire(
        app,
        settings,
        build_session_factory(settings),
        executors or fake_executors(datasets, recorder, models),
        bus=lambda: bus,
        clock=clock,
        sleeper=pause,
        new_id=lambda: next(ids),
    )
    return PipelineEnv(app, LocalTestClient(app), clock, sleeps, datasets, recorder, bus)


@lru_cache(maxsize=1)
def shared_app() -> FastAPI:
    """Return one pipeline app for the process; each test wires it to its own state.

    Routes and the Celery app are built once (the costly part); what a deployment's start-up
    does (schema, engine, executors) runs per test in ``wire``.
    """
    settings = Settings(**{**EAGER, "database_url": MEMORY_DB})
    return create_app(settings, executors={})


def platform_executors(
    tmp_path: Path, datasets: MemoryDatasets, recorder: Recorder
) -> tuple[dict[str, Callable], Any, RegistryDouble]:
    """Return executors whose train step runs jobs on the real training app (in process)."""
    from tests.utils.training import make_training_env

    models = FakeModels()
    training = make_training_env(tmp_path, registry=models.registry)
    client = TrainingClient(_service("training", ASGIBridgeTransport(training.app)))
    table = fake_executors(datasets, recorder, models)
    table["train"] = recorder.wrap(train_step(client))
    return table, training, models.registry


@dataclass
class HeldJobs:
    """A training queue no worker drains until the test says so: jobs stay queued."""

    training: Any
    registry: RegistryDouble
    queued: list[str] = field(default_factory=list)

    def dispatch(self, job_id: str) -> None:
        self.queued.append(job_id)

    def work(self) -> None:
        """Let the training worker run every job queued so far."""
        while self.queued:
            self.training.run(self.queued.pop(0))


def held_training_executors(
    tmp_path: Path, datasets: MemoryDatasets, recorder: Recorder
) -> tuple[dict[str, Callable], Any, HeldJobs]:
    """Return executors on the real training app whose jobs wait until ``held.work()``."""
    from services.training.main import app_dispatch

    table, training, registry = platform_executors(tmp_path, datasets, recorder)
    held = HeldJobs(training, registry)
    training.app.dependency_overrides[app_dispatch] = lambda: held.dispatch
    return table, training, held


def jsonl(records: Iterable[Any]) -> bytes:
    """Return records as JSON lines."""
    return "".join(json.dumps(r) + "\n" for r in records).encode()
