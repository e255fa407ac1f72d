"""Pipeline train steps that retry while their training job waits in the queue."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import (
    TRAIN_AND_REGISTER,
    VERSION,
    MemoryDatasets,
    Recorder,
    held_training_executors,
    make_pipeline_env,
    rec,
)

pytestmark = pytest.mark.training


def queued_flow(tmp_path, *, worker_starts_after: int):
    """A pipeline whose training worker only starts after that many backoff pauses."""
    datasets, recorder = MemoryDatasets(), Recorder()
    table, training, held = held_training_executors(tmp_path, datasets, recorder)
    pauses = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) >= worker_starts_after:
            held.work()

    env = make_pipeline_env(executors=table, datasets=datasets, recorder=recorder, sleeper=pause)
    datasets.add("clicks", VERSION, [rec(1), rec(2)])
    env.define("retrain", TRAIN_AND_REGISTER)
    return env, training, held


def jobs_of(training, model: str) -> list[dict]:
    answer = training.client.get("/api/v1/jobs", params={"model_name": model})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_run_whose_job_waits_in_the_queue_trains_that_one_job(tmp_path) -> None:
    env, training, _ = queued_flow(tmp_path, worker_starts_after=2)
    run = env.run("retrain")
    assert run["status"] == "succeeded", run["error"]
    jobs = jobs_of(training, "churn")
    assert [job["status"] for job in jobs] == ["succeeded"]
    assert env.steps(run)["fit"]["output"]["job_id"] == jobs[0]["id"]
    assert env.steps(run)["fit"]["attempts"] == 3


def test_a_run_whose_job_waits_in_the_queue_registers_one_model_version(tmp_path) -> None:
    env, _, held = queued_flow(tmp_path, worker_starts_after=1)
    run = env.run("retrain")
    assert run["status"] == "succeeded", run["error"]
    assert sorted(held.registry.records) == [("churn", 1)]
    assert env.steps(run)["publish"]["output"] == {"model": "churn", "model_version": 1}


def test_a_job_still_queued_after_every_attempt_fails_the_run_with_one_job_waiting(
    tmp_path,
) -> None:
    env, training, held = queued_flow(tmp_path, worker_starts_after=99)
    run = env.run("retrain")
    assert run["status"] == "failed"
    assert "queued" in run["error"]
    assert [job["status"] for job in jobs_of(training, "churn")] == ["queued"]
    assert len(held.queued) == 1
