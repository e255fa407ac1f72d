"""Pipeline runs under failure: dying workers, duplicate deliveries, retries, dead letters."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from shared.errors import UpstreamError
from shared.events.schema import EventType, make_event, publish_event
from tests.utils.pipeline import (
    LINEAR,
    VERSION,
    WorkerDied,
    make_pipeline_env,
    rec,
    transient,
)

pytestmark = pytest.mark.pipeline
LEASE = 300


@pytest.fixture
def env():
    env = make_pipeline_env()
    env.datasets.add("clicks", VERSION, [rec(1), rec(5), rec(70)])
    env.define("daily", LINEAR)
    return env


def started_run(env, *, dies_in: str) -> str:
    """Start a run whose worker dies inside ``dies_in``; return the run's id."""
    env.recorder.fail(dies_in, WorkerDied())
    with pytest.raises(WorkerDied):
        env.start("daily")
    return env.client.get("/api/v1/pipelines/daily/runs").json()["items"][0]["id"]


def resume(env, run_id: str) -> dict:
    answer = env.client.post(f"/api/v1/runs/{run_id}/resume")
    assert answer.status_code == 202, answer.text
    return env.get_run(run_id)


def test_run_resumed_after_a_worker_died_mid_step_runs_each_step_to_completion_once(env) -> None:
    run_id = started_run(env, dies_in="fit")
    env.clock.advance(LEASE + 1)
    run = resume(env, run_id)
    assert run["status"] == "succeeded"
    assert dict(env.recorder.calls) == {
        "check": 1,
        "hourly": 1,
        "features": 1,
        "fit": 2,
        "score": 1,
        "publish": 1,
    }


def test_resumed_run_registers_exactly_one_model_version(env) -> None:
    run_id = started_run(env, dies_in="publish")
    env.clock.advance(LEASE + 1)
    run = resume(env, run_id)
    assert env.steps(run)["publish"]["output"] == {"model": "churn", "model_version": 1}
    query = {"model": "churn"}
    models = env.client.get("/api/v1/lineage", params=query).json()["items"]
    assert [(i["kind"], i["version"]) for i in models if i["kind"] == "model_version"] == [
        ("model_version", 1)
    ]


def test_resume_while_the_dead_worker_still_holds_its_lease_runs_nothing(env) -> None:
    run_id = started_run(env, dies_in="fit")
    run = resume(env, run_id)
    assert run["status"] == "running"
    assert env.recorder.calls["fit"] == 1 and env.recorder.calls["score"] == 0


def test_taken_over_step_counts_the_dead_attempt(env) -> None:
    run_id = started_run(env, dies_in="hourly")
    env.clock.advance(LEASE + 1)
    run = resume(env, run_id)
    assert env.steps(run)["hourly"]["attempts"] == 2
    assert env.steps(run)["check"]["attempts"] == 1
    assert run["status"] == "succeeded"


def test_duplicate_task_delivered_while_a_step_runs_does_not_run_it_again(env) -> None:
    celery = env.app.state.celery
    outcomes = []

    def redeliver(ctx) -> None:
        outcomes.append(celery.tasks["pipeline.run_step"].apply(args=(ctx.run_id, "fit")).get())

    env.recorder.during["fit"] = redeliver
    run = env.run("daily")
    assert outcomes == ["skipped"]
    assert run["status"] == "succeeded" and env.recorder.calls["fit"] == 1


def test_redelivered_task_of_a_finished_step_is_skipped(env) -> None:
    run = env.run("daily")
    task = env.app.state.celery.tasks["pipeline.run_step"]
    assert task.apply(args=(run["id"], "publish")).get() == "skipped"
    assert env.recorder.calls["publish"] == 1
    assert env.get_run(run["id"])["status"] == "succeeded"


def test_transient_failures_are_retried_with_exponential_backoff(env) -> None:
    env.recorder.fail("fit", transient(), UpstreamError("training answered 502"))
    run = env.run("daily")
    assert run["status"] == "succeeded"
    assert env.steps(run)["fit"]["attempts"] == 3
    assert env.sleeps == [1.0, 2.0]


def test_step_that_exhausts_its_attempts_is_dead_lettered(env) -> None:
    env.recorder.fail("features", transient(), transient(), transient("feature store down"))
    run = env.run("daily")
    assert run["status"] == "failed"
    [letter] = env.events("pipeline.dead-letters")
    assert letter.data["step"] == "features" and letter.data["attempts"] == 3
    assert letter.data["run_id"] == run["id"] and "feature store down" in letter.data["error"]


def test_steps_after_a_dead_lettered_step_never_run(env) -> None:
    env.recorder.fail("fit", transient(), transient(), transient())
    run = env.run("daily")
    assert env.recorder.calls["score"] == env.recorder.calls["publish"] == 0
    assert [e.type.value for e in env.events()][-1] == "pipeline.run.failed"
    assert env.steps(run)["publish"]["status"] == "pending"


def test_permanent_failure_is_not_retried_nor_dead_lettered(env) -> None:
    env.recorder.fail("check", ValueError("corrupt header"))
    run = env.run("daily")
    assert run["status"] == "failed" and env.steps(run)["check"]["attempts"] == 1
    assert env.sleeps == [] and env.events("pipeline.dead-letters") == []


def test_batch_redelivered_after_the_trigger_crashed_starts_each_run_once(env) -> None:
    env.define("daily", LINEAR, trigger="clicks")
    env.datasets.add("clicks", "v2", [rec(2)])
    for version in (VERSION, "v2"):
        announce(env, version)
    engine = env.app.state.pipelines.engine
    real, crashes = engine.trigger, []

    def crash_on_second(dataset: str, dataset_version: str) -> list[str]:
        if dataset_version == "v2" and not crashes:
            crashes.append(dataset_version)
            raise OperationalError("INSERT", {}, Exception("database restarting"))
        return real(dataset, dataset_version)

    engine.trigger = crash_on_second
    with pytest.raises(OperationalError):
        env.trigger.drain()
    runs = env.trigger.drain()
    assert len(runs) == 2 and len(set(runs)) == 2
    assert env.recorder.calls["fit"] == 2
    assert env.client.get("/api/v1/pipelines/daily/runs").json()["total"] == 2


def announce(env, version: str) -> None:
    data = {"dataset": "clicks", "version": version, "namespace": "datasets", "objects": 1}
    event = make_event(EventType.DATASET_VERSION_COMMITTED, {**data, "size": 1}, source="storage")
    publish_event(env.bus, event)
