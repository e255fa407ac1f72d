"""The storage service under object-store outages and concurrent writers of one checkpoint.

Outages surface as 503 problems and leave nothing half-written: an interrupted upload keeps its
session, and a retry after recovery stores the whole object. Two saves of one checkpoint key
racing each other each store a complete checkpoint; the key ends up holding one of them.
"""

from __future__ import annotations

import queue
import threading

import pytest

from shared import backends
from shared.clients.inprocess import ASGIBridgeTransport
from shared.clients.storage import StorageServiceStore
from shared.storage.base import StorageError
from shared.storage.bootstrap import CHECKPOINTS_BUCKET
from shared.storage.memory import InMemoryObjectStore
from shared.utils.distributed import InMemoryLockFactory
from shared.utils.timeutils import FakeClock
from tests.utils.storage import (
    BarrierTransport,
    HookedStore,
    blob,
    make_storage_env,
    sha256,
    storage_client,
)

pytestmark = pytest.mark.storage

PART = 20 * 1024
KEY = "churn/job-3/checkpoints/step-00100.ckpt"


@pytest.fixture
def env():
    return make_storage_env(store=HookedStore())


def send_parts(env, session, data):
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    for number, part in enumerate(parts, start=1):
        assert env.put_part(session, number, part).status_code == 200
    return len(parts)


def test_outage_while_completing_keeps_the_session_and_a_retry_stores_the_object(env):
    data = blob(3 * PART, seed=50)
    session = env.open_session("checkpoints", KEY)
    parts = send_parts(env, session, data)
    env.store.fail_with = StorageError("object store unreachable")
    response = env.complete(session, parts, sha256(data))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert env.get("checkpoints", KEY).status_code == 404
    assert env.client.get(f"/api/v1/uploads/{session}").json()["state"] == "open"
    env.store.fail_with = None
    assert env.complete(session, parts, sha256(data)).status_code == 201
    assert env.get("checkpoints", KEY).content == data


def test_part_lost_to_an_outage_is_missing_from_the_session_until_resent(env):
    data = blob(2 * PART, seed=51)
    session = env.open_session("checkpoints", KEY)
    assert env.put_part(session, 1, data[:PART]).status_code == 200
    env.store.fail_with = StorageError("object store unreachable")
    assert env.put_part(session, 2, data[PART:]).status_code == 503
    env.store.fail_with = None
    held = env.client.get(f"/api/v1/uploads/{session}").json()["parts"]
    assert [p["number"] for p in held] == [1]
    assert env.put_part(session, 2, data[PART:]).status_code == 200
    assert env.complete(session, 2, sha256(data)).status_code == 201


def test_two_writers_of_one_checkpoint_interleaving_both_store_complete_checkpoints(env):
    first, second = blob(2 * PART, seed=52), blob(2 * PART, seed=53)
    a = env.open_session("checkpoints", KEY)
    b = env.open_session("checkpoints", KEY)
    send_parts(env, a, first)
    send_parts(env, b, second)
    assert env.complete(a, 2, sha256(first)).status_code == 201
    assert env.get("checkpoints", KEY).content == first
    assert env.complete(b, 2, sha256(second)).status_code == 201
    assert env.get("checkpoints", KEY).content == second


class PausingStore(InMemoryObjectStore):
    """A store that holds the first writer of the checkpoint right after its bytes are in."""

    def __init__(self, steps: queue.SimpleQueue, labels: dict[bytes, str]) -> None:
        super().__init__()
        self.steps, self.labels = steps, labels
        self.resume = threading.Event()
        self.paused: str | None = None
        self.guard = threading.Lock()

    def put(self, bucket, name, data, **kwargs):
        info = super().put(bucket, name, data, **kwargs)
        if name == KEY:
            label = self.labels[bytes(data)]
            with self.guard:
                first, self.paused = self.paused is None, self.paused or label
            self.steps.put(("wrote", label))
            if first:
                self.resume.wait(timeout=20)
        return info


class WaitReportingLocks(InMemoryLockFactory):
    """In-process locks that report each lock someone has to wait for."""

    def __init__(self, steps: queue.SimpleQueue) -> None:
        super().__init__()
        self.steps = steps

    def acquire(self, lock, timeout):
        if super().acquire(lock, 0):
            return True
        self.steps.put(("waits", lock.name))
        return super().acquire(lock, timeout)


def test_concurrent_checkpoint_saves_through_the_port_never_mix(tmp_path):
    saves = {"a": blob(3 * PART, seed=54), "b": blob(3 * PART, seed=55)}
    steps: queue.SimpleQueue = queue.SimpleQueue()
    store = PausingStore(steps, {data: label for label, data in saves.items()})
    env = make_storage_env(
        store=store, database_url=f"sqlite+pysqlite:///{tmp_path / 'storage.sqlite3'}"
    )
    # Both writers open their upload, one after the other, before either sends a part.
    transport = BarrierTransport(
        ASGIBridgeTransport(env.app),
        gate=lambda r: r.url.path.endswith("/parts/1"),
        parties=2,
        serial=lambda r: r.url.path == "/api/v1/uploads",
    )
    port = StorageServiceStore(storage_client(transport), part_size=PART)
    errors: list[BaseException] = []

    def save(label: str) -> None:
        try:
            port.put(CHECKPOINTS_BUCKET, KEY, saves[label])
        except BaseException as exc:
            errors.append(exc)
        finally:
            steps.put(("done", label))

    threads = [threading.Thread(target=save, args=(label,), name=label) for label in saves]
    with backends.use_backend("locks", WaitReportingLocks(steps)):
        for thread in threads:
            thread.start()
        # The first save to write the checkpoint stays right there until the other save has
        # finished or waits for its turn: the worst moment for the other save to write.
        seen: dict[str, set[str]] = {"wrote": set(), "waits": set(), "done": set()}
        while len(seen["done"]) < 2:
            kind, label = steps.get(timeout=30)
            seen[kind].add(label)
            other = {"a": "b", "b": "a"}.get(store.paused or "")
            if other in seen["done"] or (other and seen["waits"]):
                store.resume.set()
        for thread in threads:
            thread.join(timeout=10)
    assert errors == []
    assert port.get(CHECKPOINTS_BUCKET, KEY) in saves.values()


def test_write_kept_waiting_by_another_write_of_its_key_is_refused_and_stores_nothing():
    env = make_storage_env(write_lock_wait_seconds=0.05)
    other = backends.get_locks()(f"storage:object:checkpoints/{KEY}", ttl=60)
    assert other.acquire(timeout=0)
    response = env.put("checkpoints", KEY, b"late bytes")
    assert response.status_code == 503
    assert response.json()["error"] == "lock_timeout"
    other.release()
    assert env.get("checkpoints", KEY).status_code == 404
    assert env.put("checkpoints", KEY, b"late bytes").status_code == 201
    assert env.get("checkpoints", KEY).content == b"late bytes"


def test_write_that_outlasts_its_keys_lease_still_stores_the_object(env):
    clock = FakeClock()
    env.store.after_put = lambda bucket, name: clock.advance(3600)
    with backends.use_backend("locks", InMemoryLockFactory(clock=clock)):
        response = env.put("checkpoints", KEY, b"slow bytes")
    assert response.status_code == 201, response.text
    assert env.get("checkpoints", KEY).content == b"slow bytes"
