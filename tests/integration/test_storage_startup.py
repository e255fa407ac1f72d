"""The storage service starts only with its buckets, and says when one goes missing."""

from __future__ import annotations

import pytest

from services.storage.config import Settings
from services.storage.main import create_app
from shared.storage.bootstrap import BucketBootstrapError
from shared.storage.memory import InMemoryObjectStore
from tests.utils.storage import make_storage_env

pytestmark = pytest.mark.storage


class RefusingStore(InMemoryObjectStore):
    """A store whose server refuses to create the datasets bucket."""

    def ensure_bucket(self, bucket):
        if bucket == "synapse-datasets":
            return False
        return super().ensure_bucket(bucket)


def test_startup_fails_naming_the_bucket_it_could_not_create():
    settings = Settings(database_url="sqlite+pysqlite:///:memory:")
    with pytest.raises(BucketBootstrapError, match="synapse-datasets"):
        create_app(settings, storage=RefusingStore)


def test_ready_reports_a_bucket_removed_after_startup():
    env = make_storage_env(store=InMemoryObjectStore())
    assert env.client.get("/ready").status_code == 200
    env.store.remove_bucket("synapse-checkpoints")
    response = env.client.get("/ready")
    assert response.status_code == 503
    assert "synapse-checkpoints" in response.json()["checks"]["buckets"]["detail"]
