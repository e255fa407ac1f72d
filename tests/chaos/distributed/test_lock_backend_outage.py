"""Services whose writes take locks, while the lock backend (Redis) cannot be reached."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from services.features.models import FeatureRow
from shared import backends
from shared.utils.distributed import (
    InMemoryLockFactory,
    LockBackendUnavailableError,
    RedisLockFactory,
)
from tests.utils.features import FEATURES_DB, ago, feature, row
from tests.utils.storage import HookedStore, make_storage_env
from tests.utils.training import JOBS_URL, job_payload, make_training_env

KEY = "jobs/7/model.bin"
PROBLEM = "application/problem+json"


def unreachable_locks() -> RedisLockFactory:
    """Return Redis locks pointed at a local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return RedisLockFactory(url=f"redis://127.0.0.1:{port}/0")


@contextmanager
def locks_down() -> Iterator[RedisLockFactory]:
    with backends.use_backend("locks", unreachable_locks()) as locks:
        yield locks


class VanishingLocks(InMemoryLockFactory):
    """In-process locks whose backend can go away while a lock is held."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def owner(self, name):
        if self.down:
            raise LockBackendUnavailableError("the lock backend is unavailable")
        return super().owner(name)

    def release(self, lock):
        if self.down:
            raise LockBackendUnavailableError("the lock backend is unavailable")
        super().release(lock)


@pytest.mark.training
@pytest.mark.parametrize(
    "operation",
    [
        lambda lock: lock.acquire(timeout=0),
        lambda lock: lock.release(),
        lambda lock: lock.extend(),
        lambda lock: lock.owner(),
        lambda lock: lock.held(),
    ],
    ids=["acquire", "release", "extend", "owner", "held"],
)
def test_every_lock_operation_on_an_unreachable_backend_is_unavailable(operation):
    lock = unreachable_locks()("job-1", ttl=10)
    with pytest.raises(LockBackendUnavailableError, match="lock backend is unavailable") as caught:
        operation(lock)
    assert caught.value.status_code == 503


@pytest.mark.storage
def test_object_write_while_the_lock_backend_is_down_answers_503_and_stores_nothing():
    env = make_storage_env()
    with locks_down():
        response = env.put("checkpoints", KEY, b"weights")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["error"] == "lock_backend_unavailable"
        assert env.get("checkpoints", KEY).status_code == 404
    # The backend is back: the same write goes through.
    assert env.put("checkpoints", KEY, b"weights").status_code == 201
    assert env.get("checkpoints", KEY).content == b"weights"


@pytest.mark.storage
def test_write_whose_lock_cannot_be_given_back_is_still_stored():
    store = HookedStore()
    env = make_storage_env(store=store)
    locks = VanishingLocks()
    store.after_put = lambda bucket, name: setattr(locks, "down", True)
    with backends.use_backend("locks", locks):
        response = env.put("checkpoints", KEY, b"weights")
    assert response.status_code == 201, response.text
    assert env.get("checkpoints", KEY).content == b"weights"


@pytest.mark.storage
def test_storage_is_not_ready_while_its_lock_backend_is_down():
    env = make_storage_env()
    assert env.client.get("/ready").status_code == 200
    with locks_down():
        response = env.client.get("/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["locks"]
    assert "unreachable" in response.json()["checks"]["locks"]["detail"]


@pytest.mark.features
@FEATURES_DB
def test_feature_backfill_while_the_lock_backend_is_down_answers_503_and_stores_nothing(
    features_api,
):
    features_api.entity()
    features_api.view("score", [feature("score", "decimal")])
    rows = {"rows": [row("c1", ago(2), score=0.5)]}
    with locks_down():
        response = features_api.post("/api/v1/feature-views/score/rows", rows)
        assert response.status_code == 503
        assert response.json()["error"] == "lock_backend_unavailable"
        ready = features_api.get("/ready")
        assert ready.status_code == 503 and ready.json()["failing"] == ["locks"]
    assert not FeatureRow.objects.exists()
    features_api.backfill("score", rows["rows"])
    assert FeatureRow.objects.count() == 1


@pytest.mark.training
def test_job_run_while_the_lock_backend_is_down_fails_saying_so(tmp_path):
    env = make_training_env(tmp_path, lock_factory=unreachable_locks())
    response = env.client.post(JOBS_URL, json=job_payload("churn"))
    assert response.status_code == 202
    [job] = env.client.get(JOBS_URL).json()["items"]
    assert job["status"] == "failed"
    assert "lock backend is unavailable" in job["error"]
    assert env.client.get("/ready").json()["failing"] == ["locks"]
