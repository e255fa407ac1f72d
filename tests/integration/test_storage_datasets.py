"""Dataset versions: shards uploaded through upload sessions, committed as immutable versions."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.utils.storage import blob, make_storage_env, sha256

pytestmark = pytest.mark.storage

PART = 20 * 1024
SHARDS = {
    "churn/train-000.csv": blob(2 * PART, seed=21),
    "churn/train-001.csv": blob(PART, seed=22),
}


@pytest.fixture
def env():
    env = make_storage_env()
    for key, data in SHARDS.items():
        upload(env, key, data)
    return env


def upload(env, key, data):
    session = env.open_session("datasets", key)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    for number, part in enumerate(parts, start=1):
        assert env.put_part(session, number, part).status_code == 200
    done = env.complete(session, len(parts), sha256(data))
    assert done.status_code == 201, done.text


def commit(env, keys, dataset="churn"):
    return env.client.post(f"/api/v1/datasets/{dataset}/versions", json={"keys": keys})


def test_version_id_is_the_sha256_of_the_sorted_manifest(env):
    response = commit(env, sorted(SHARDS, reverse=True))
    assert response.status_code == 201, response.text
    manifest = [{"key": k, "sha256": sha256(d), "size": len(d)} for k, d in sorted(SHARDS.items())]
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    assert response.json()["version"] == hashlib.sha256(canonical).hexdigest()
    assert response.json()["objects"] == manifest


def test_committing_the_same_content_again_returns_the_same_version(env):
    first = commit(env, list(SHARDS))
    again = commit(env, list(reversed(SHARDS)))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["version"] == first.json()["version"]
    assert len(env.client.get("/api/v1/datasets/churn/versions").json()) == 1


def test_objects_of_a_committed_version_cannot_be_changed(env):
    version = commit(env, list(SHARDS)).json()["version"]
    overwrite = env.put("datasets", "churn/train-000.csv", b"a,b\n", "text/csv")
    delete = env.client.delete("/api/v1/objects/datasets/churn/train-001.csv")
    modify = env.client.delete(f"/api/v1/datasets/churn/versions/{version}")
    assert [overwrite.status_code, delete.status_code, modify.status_code] == [409, 409, 409]
    assert env.get("datasets", "churn/train-000.csv").content == SHARDS["churn/train-000.csv"]
