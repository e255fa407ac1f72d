"""A pipeline worker dies while its train step waits on a queued training job."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import (
    TRAIN_AND_REGISTER,
    VERSION,
    MemoryDatasets,
    Recorder,
    WorkerDied,
    held_training_executors,
    make_pipeline_env,
    rec,
)

pytestmark = pytest.mark.pipeline
LEASE = 300


@pytest.fixture
def crashed(tmp_path):
    """A run whose worker vanished in its first backoff pause, its job still queued."""
    datasets, recorder = MemoryDatasets(), Recorder()
    table, training, held = held_training_executors(tmp_path, datasets, recorder)
    pauses = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:
            raise WorkerDied()
        held.work()

    env = make_pipeline_env(executors=table, datasets=datasets, recorder=recorder, sleeper=pause)
    datasets.add("clicks", VERSION, [rec(1), rec(2)])
    env.define("retrain", TRAIN_AND_REGISTER)
    with pytest.raises(WorkerDied):
        env.start("retrain")
    run_id = env.client.get("/api/v1/pipelines/retrain/runs").json()["items"][0]["id"]
    return env, training, held, run_id


def resume(env, run_id: str) -> dict:
    answer = env.client.post(f"/api/v1/runs/{run_id}/resume")
    assert answer.status_code == 202, answer.text
    return env.get_run(run_id)


def jobs(training) -> list[dict]:
    return training.client.get("/api/v1/jobs", params={"model_name": "churn"}).json()["items"]


def test_step_taken_over_after_its_job_finished_uses_that_job(crashed) -> None:
    env, training, held, run_id = crashed
    held.work()
    env.clock.advance(LEASE + 1)
    run = resume(env, run_id)
    assert run["status"] == "succeeded", run["error"]
    (job,) = jobs(training)
    assert env.steps(run)["fit"]["output"]["job_id"] == job["id"]
    assert env.steps(run)["fit"]["attempts"] == 2
    assert sorted(held.registry.records) == [("churn", 1)]


def test_step_taken_over_while_its_job_is_queued_waits_for_it(crashed) -> None:
    env, training, held, run_id = crashed
    env.clock.advance(LEASE + 1)
    run = resume(env, run_id)
    assert run["status"] == "succeeded", run["error"]
    assert [job["status"] for job in jobs(training)] == ["succeeded"]
    assert env.steps(run)["publish"]["output"] == {"model": "churn", "model_version": 1}
