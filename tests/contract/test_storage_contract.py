"""What the storage service promises its consumers: the dataset event and the object metadata."""

from __future__ import annotations

import pytest

from shared.backends import get_bus
from shared.events.schema import EVENT_SPECS, EventType, read_event
from tests.utils.storage import blob, make_storage_env, sha256

pytestmark = pytest.mark.storage

PART = 20 * 1024


def test_committed_dataset_version_is_announced_with_its_content_address():
    env = make_storage_env()
    watcher = get_bus().subscribe(["storage.datasets"], "contract-datasets", "earliest")
    data = blob(2 * PART + 5, seed=31)
    session = env.open_session("datasets", "iris/all.csv")
    for number, start in enumerate(range(0, len(data), PART), start=1):
        env.put_part(session, number, data[start : start + PART])
    assert env.complete(session, 3, sha256(data)).status_code == 201
    version = env.client.post("/api/v1/datasets/iris/versions", json={"keys": ["iris/all.csv"]})
    [record] = watcher.poll(max_records=10)
    envelope = read_event(record)
    assert envelope.type == EventType.DATASET_VERSION_COMMITTED
    assert record.key == "iris"
    assert set(envelope.data) == set(EVENT_SPECS[EventType.DATASET_VERSION_COMMITTED].fields)
    assert envelope.data == {
        "dataset": "iris",
        "version": version.json()["version"],
        "namespace": "datasets",
        "objects": 1,
        "size": len(data),
    }


def test_object_metadata_names_its_checksum_in_body_and_headers():
    env = make_storage_env()
    data = blob(3 * PART, seed=32)
    session = env.open_session("artifacts", "iris/3/model.npz")
    for number in (1, 2, 3):
        env.put_part(session, number, data[(number - 1) * PART : number * PART])
    body = env.complete(session, 3, sha256(data)).json()["object"]
    assert body["sha256"] == sha256(data) and body["size"] == len(data)
    head = env.client.head("/api/v1/objects/artifacts/iris/3/model.npz")
    assert head.headers["x-content-sha256"] == sha256(data)
    assert head.headers["content-length"] == str(len(data))
