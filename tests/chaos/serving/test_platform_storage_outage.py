"""An object-store outage behind the storage service, seen from training and serving flows."""

from __future__ import annotations

import pytest

from shared import backends
from shared.storage.base import StorageError
from shared.storage.memory import InMemoryObjectStore
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB, pytest.mark.storage]


class DownStore(InMemoryObjectStore):
    """An object store whose every read and write fails as an unreachable one does."""

    def get(self, bucket, name, *, verify=True):
        raise StorageError("object store unreachable")

    def put(self, bucket, name, data, **kwargs):
        raise StorageError("object store unreachable")


def test_deploy_during_an_outage_is_unavailable_and_succeeds_after_recovery(platform):
    trained = platform.train("churn", seed=12)
    platform.artifact_path("churn", trained.version).unlink()
    with backends.use_backend("storage", DownStore()):
        response = platform.deploy("churn", trained.version)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert not platform.artifact_path("churn", trained.version).exists()
    assert platform.deploy("churn", trained.version).status_code == 200
    assert platform.predict("churn", rows()).json()["version"] == trained.version


def test_artifact_written_during_an_outage_is_not_listed_half_written(platform):
    trained = platform.train("churn", seed=13)
    key = f"churn/{trained.job['id']}/model.npz"
    data = platform.artifact_path("churn", trained.version).read_bytes()
    store = platform.object_store()
    with backends.use_backend("storage", DownStore()), pytest.raises(StorageError):
        store.put("synapse-artifacts", key, b"partial" + data)
    assert store.get("synapse-artifacts", key) == data
    listed = [info for info in store.list("synapse-artifacts", "churn/") if info.name == key]
    assert len(listed) == 1 and listed[0].size == len(data)
