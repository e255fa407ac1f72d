"""Runs triggered by dataset versions committed in storage, through the bus."""

from __future__ import annotations

import pytest

from services.pipeline.executors import StorageDatasetReader, transform_step, validate_step
from shared.events.schema import EventType, make_event, publish_event
from tests.utils.pipeline import (
    MemoryDatasets,
    Recorder,
    at,
    fake_executors,
    jsonl,
    make_pipeline_env,
    rec,
    step,
)
from tests.utils.storage import make_storage_env, storage_client

pytestmark = pytest.mark.pipeline

STEPS = [
    step("check", "validate"),
    step("tumble", "transform", "check", window_seconds=600, allowed_lateness_seconds=300),
]


@pytest.fixture
def platform():
    storage = make_storage_env()
    recorder = Recorder()
    table = fake_executors(MemoryDatasets(), recorder)
    reader = StorageDatasetReader(storage_client(storage.app))
    table["validate"] = recorder.wrap(validate_step(reader))
    table["transform"] = recorder.wrap(transform_step(reader))
    env = make_pipeline_env(executors=table, recorder=recorder)
    env.define("clicks-windows", STEPS, trigger="clicks")
    return storage, env


def commit(storage, dataset: str, *objects: list) -> str:
    keys = []
    for number, records in enumerate(objects):
        key = f"{dataset}/part-{number}.jsonl"
        assert storage.put("datasets", key, jsonl(records)).status_code == 201
        keys.append(key)
    answer = storage.client.post(f"/api/v1/datasets/{dataset}/versions", json={"keys": keys})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["version"])


def test_committed_dataset_version_starts_a_run_of_its_pipeline(platform) -> None:
    storage, env = platform
    version = commit(storage, "clicks", [rec(1), rec(3), rec(14)])
    [run_id] = env.trigger.drain()
    run = env.get_run(run_id)
    assert (run["trigger"], run["dataset_version"], run["status"]) == (
        "event",
        version,
        "succeeded",
    )
    assert env.steps(run)["check"]["output"]["records"] == 3


def test_triggered_run_windows_every_object_of_the_version(platform) -> None:
    storage, env = platform
    commit(storage, "clicks", [rec(1), rec(12), rec(45)], [rec(2), rec(4)])
    [run_id] = env.trigger.drain()
    output = env.steps(env.get_run(run_id))["tumble"]["output"]
    assert output["late_records"] == 0
    assert [w["count"] for w in output["windows"]] == [3, 1, 1]


def test_versions_of_other_datasets_start_nothing(platform) -> None:
    storage, env = platform
    commit(storage, "views", [rec(1)])
    assert env.trigger.drain() == []
    assert env.client.get("/api/v1/pipelines/clicks-windows/runs").json()["total"] == 0


def test_duplicate_announcement_of_a_version_runs_its_pipeline_once(platform) -> None:
    storage, env = platform
    version = commit(storage, "clicks", [rec(1)])
    data = {"dataset": "clicks", "version": version, "namespace": "datasets", "objects": 1}
    publish_event(
        env.bus,
        make_event(EventType.DATASET_VERSION_COMMITTED, {**data, "size": 1}, source="storage"),
    )
    runs = env.trigger.drain()
    assert len(runs) == 2 and len(set(runs)) == 1
    assert env.recorder.calls["check"] == 1
    output = env.steps(env.get_run(runs[0]))["tumble"]["output"]
    assert [(w["start"], w["count"]) for w in output["windows"]] == [(at(0), 1)]


def test_triggered_run_uses_the_newest_pipeline_version(platform) -> None:
    storage, env = platform
    env.define("clicks-windows", STEPS[:1], trigger="clicks")
    commit(storage, "clicks", [rec(1)])
    [run_id] = env.trigger.drain()
    run = env.get_run(run_id)
    assert run["version"] == 2 and [s["name"] for s in run["steps"]] == ["check"]


def test_triggered_run_windows_every_record_it_validated(platform) -> None:
    storage, env = platform
    commit(
        storage,
        "clicks",
        [rec(31), rec(38), rec(52)],
        [rec(4), rec(16), rec(33)],
        [rec(11), rec(27), rec(44)],
    )
    [run_id] = env.trigger.drain()
    steps = env.steps(env.get_run(run_id))
    windows = steps["tumble"]["output"]["windows"]
    assert sum(w["count"] for w in windows) == steps["check"]["output"]["records"] == 9
    assert {w["start"]: w["count"] for w in windows} == {
        at(0): 1,
        at(10): 2,
        at(20): 1,
        at(30): 3,
        at(40): 1,
        at(50): 1,
    }
