"""Held-out: a train step retried more times while its training job waits in the queue."""

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


def test_a_run_whose_job_waits_through_four_pauses_trains_one_job_and_registers_one_version(
    tmp_path,
) -> None:
    datasets, recorder = MemoryDatasets(), Recorder()
    table, training, held = held_training_executors(tmp_path, datasets, recorder)
    pauses = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 4:
            held.work()

    env = make_pipeline_env(
        executors=table, datasets=datasets, recorder=recorder, sleeper=pause, max_attempts=6
    )
    datasets.add("clicks", VERSION, [rec(3), rec(4), rec(5)])
    env.define("retrain", TRAIN_AND_REGISTER)
    run = env.run("retrain")
    assert run["status"] == "succeeded", run["error"]
    jobs = training.client.get("/api/v1/jobs", params={"model_name": "churn"}).json()["items"]
    assert [job["status"] for job in jobs] == ["succeeded"]
    assert sorted(held.registry.records) == [("churn", 1)]
    assert env.steps(run)["fit"]["attempts"] == 5
