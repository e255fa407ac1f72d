"""Training jobs submitted by pipeline runs: same pipeline on the same data, same model."""

from __future__ import annotations

import pytest

from shared.events.schema import EventType, make_event, publish_event
from tests.utils.pipeline import (
    TRAIN_AND_REGISTER,
    VERSION,
    MemoryDatasets,
    Recorder,
    make_pipeline_env,
    platform_executors,
    rec,
)

pytestmark = pytest.mark.training


@pytest.fixture
def flow(tmp_path):
    datasets, recorder = MemoryDatasets(), Recorder()
    table, training, registry = platform_executors(tmp_path, datasets, recorder)
    env = make_pipeline_env(executors=table, datasets=datasets, recorder=recorder)
    datasets.add("clicks", VERSION, [rec(1), rec(2)])
    datasets.add("clicks", "77aa01", [rec(1), rec(2)])
    env.define("retrain", TRAIN_AND_REGISTER, trigger="clicks")
    return env, training


def job_of(env, training, run: dict) -> dict:
    job_id = env.steps(run)["fit"]["output"]["job_id"]
    answer = training.client.get(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_rerunning_a_pipeline_on_one_dataset_version_trains_the_same_job(flow) -> None:
    env, training = flow
    first, second = env.run("retrain"), env.run("retrain")
    assert first["status"] == second["status"] == "succeeded"
    one, two = job_of(env, training, first), job_of(env, training, second)
    assert (one["hyperparams"], one["dataset"]) == (two["hyperparams"], two["dataset"])
    assert one["metrics"] == two["metrics"]


def test_event_run_and_api_run_of_one_version_train_identical_models(flow) -> None:
    env, training = flow
    data = {"dataset": "clicks", "version": VERSION, "namespace": "datasets", "objects": 1}
    event = make_event(EventType.DATASET_VERSION_COMMITTED, {**data, "size": 9}, source="storage")
    publish_event(env.bus, event)
    [triggered] = env.trigger.drain()
    by_api = env.run("retrain")
    by_event = env.get_run(triggered)
    assert by_event["seed"] == by_api["seed"]
    assert job_of(env, training, by_event)["metrics"] == job_of(env, training, by_api)["metrics"]


def test_another_dataset_version_trains_on_other_rows(flow) -> None:
    env, training = flow
    one = job_of(env, training, env.run("retrain"))
    two = job_of(env, training, env.run("retrain", data_version="77aa01"))
    assert one["dataset"]["seed"] != two["dataset"]["seed"]


def test_each_run_registers_its_own_model_version(flow) -> None:
    env, _ = flow
    runs = [env.run("retrain") for _ in range(2)]
    assert [env.steps(r)["publish"]["output"]["model_version"] for r in runs] == [1, 2]
