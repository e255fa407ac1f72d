"""Artifacts and checkpoints live in the storage service: training writes them there, inference
fetches them from there, and callers read them through the gateway."""

from __future__ import annotations

import pytest

from shared.storage.bootstrap import ARTIFACTS_BUCKET
from tests.utils.platform import PLATFORM_DB, rows
from tests.utils.storage import sha256

pytestmark = [PLATFORM_DB, pytest.mark.storage]

OBJECTS = "/api/storage/api/v1/objects"


def test_trained_artifact_is_served_by_the_storage_service_with_the_registered_checksum(platform):
    trained = platform.train("churn")
    key = f"churn/{trained.job['id']}/model.npz"
    response = platform.gateway.get(f"{OBJECTS}/artifacts/{key}")
    assert response.status_code == 200, response.text
    registered = platform.version("churn", trained.version)["params"]["artifact_sha256"]
    assert sha256(response.content) == registered
    assert response.headers["x-content-sha256"] == registered


def test_every_checkpoint_of_a_job_is_listed_by_the_storage_service(platform):
    trained = platform.train("churn", epochs=4)
    prefix = f"churn/{trained.job['id']}/checkpoints/"
    listing = platform.gateway.get(f"{OBJECTS}/checkpoints", params={"prefix": prefix}).json()
    keys = [item["key"] for item in listing["items"]]
    assert keys and all(key.startswith(prefix) for key in keys)
    for item in listing["items"]:
        assert len(item["sha256"]) == 64 and item["size"] > 0


def test_replica_without_the_file_serves_the_artifact_fetched_from_the_storage_service(platform):
    trained = platform.train("churn", seed=9)
    platform.promote("churn", trained.version)
    platform.artifact_path("churn", trained.version).unlink()
    response = platform.deploy("churn", trained.version)
    assert response.status_code == 200, response.text
    body = platform.predict("churn", rows()).json()
    assert body["version"] == trained.version
    assert platform.artifact_path("churn", trained.version).exists()


def test_deploy_refuses_an_artifact_the_storage_service_no_longer_holds(platform):
    trained = platform.train("churn", seed=10)
    platform.artifact_path("churn", trained.version).unlink()
    key = f"churn/{trained.job['id']}/model.npz"
    assert platform.gateway.delete(f"{OBJECTS}/artifacts/{key}").status_code == 204
    response = platform.deploy("churn", trained.version)
    assert response.status_code == 422, response.text
    assert "does not exist" in response.json()["detail"]
    assert platform.predict("churn", rows()).status_code == 404
    assert platform.object_store().list(ARTIFACTS_BUCKET, "churn/") == []
