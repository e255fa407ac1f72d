"""A dataset version committed in storage, windowed by the pipeline run it triggers."""

from __future__ import annotations

import pytest

from services.pipeline.executors import StorageDatasetReader, transform_step
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

pytestmark = pytest.mark.storage


def windows_of_committed(*objects: list) -> dict:
    storage = make_storage_env()
    table = fake_executors(MemoryDatasets(), Recorder())
    table["transform"] = transform_step(StorageDatasetReader(storage_client(storage.app)))
    env = make_pipeline_env(executors=table)
    tumble = step("tumble", "transform", window_seconds=600, allowed_lateness_seconds=300)
    env.define("sessions", [tumble], trigger="sessions")
    keys = [f"sessions/{n}.jsonl" for n in range(len(objects))]
    for key, records in zip(keys, objects, strict=True):
        assert storage.put("datasets", key, jsonl(records)).status_code == 201
    answer = storage.client.post("/api/v1/datasets/sessions/versions", json={"keys": keys})
    assert answer.status_code == 201, answer.text
    [run_id] = env.trigger.drain()
    return env.steps(env.get_run(run_id))["tumble"]["output"]


def test_object_uploaded_by_a_lagging_producer_keeps_its_records() -> None:
    output = windows_of_committed([rec(0), rec(25), rec(52), rec(53)], [rec(6), rec(7), rec(8)])
    assert output["late_records"] == 0
    assert {w["start"]: w["count"] for w in output["windows"]} == {at(0): 4, at(20): 1, at(50): 2}


def test_out_of_order_rows_of_one_object_are_late_once_their_window_closed() -> None:
    output = windows_of_committed([rec(5), rec(33), rec(2), rec(17), rec(31)])
    assert output["late_records"] == 2
    assert {w["start"]: w["count"] for w in output["windows"]} == {at(0): 1, at(30): 2}
