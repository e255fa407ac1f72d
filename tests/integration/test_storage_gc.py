"""Garbage collection deletes only what no row references, and only after the grace period."""

from __future__ import annotations

import pytest

from services.storage.config import Settings
from tests.utils.storage import HookedStore, blob, make_storage_env, sha256

pytestmark = pytest.mark.storage

GRACE = Settings().gc_grace_seconds
PART = 20 * 1024


@pytest.fixture
def env():
    return make_storage_env(store=HookedStore())


def test_deleted_object_stays_until_the_grace_period_has_passed(env):
    data = blob(2 * PART, seed=41)
    session = env.open_session("artifacts", "churn/1/model.npz")
    for number in (1, 2):
        assert (
            env.put_part(session, number, data[(number - 1) * PART : number * PART]).status_code
            == 200
        )
    assert env.complete(session, 2, sha256(data)).status_code == 201
    env.clock.advance(GRACE)
    env.gc()  # the parts of the completed session
    assert env.client.delete("/api/v1/objects/artifacts/churn/1/model.npz").status_code == 204
    assert env.get("artifacts", "churn/1/model.npz").status_code == 404
    env.clock.advance(GRACE - 1)
    assert env.gc() == []
    env.clock.advance(1)
    assert env.gc() == ["synapse-artifacts/churn/1/model.npz"]
    assert env.store.names("synapse-artifacts") == []


def test_parts_of_an_aborted_session_are_collected_after_the_grace_period(env):
    session = env.open_session("checkpoints", "churn/job-1/step-00002.ckpt")
    for number in (1, 2):
        assert env.put_part(session, number, blob(PART, seed=number)).status_code == 200
    assert env.client.delete(f"/api/v1/uploads/{session}").status_code == 204
    assert env.complete(session, 2, sha256(b"")).status_code == 409
    env.clock.advance(GRACE)
    assert len(env.gc()) == 2
    assert env.store.names("synapse-checkpoints") == []


def test_collection_during_an_upload_keeps_the_object_being_written(env):
    env.put("checkpoints", "churn/job-2/latest.ckpt", b"old")
    env.client.delete("/api/v1/objects/checkpoints/churn/job-2/latest.ckpt")
    env.clock.advance(GRACE)
    data = blob(2 * PART, seed=40)
    session = env.open_session("checkpoints", "churn/job-2/latest.ckpt")
    for number in (1, 2):
        env.put_part(session, number, data[(number - 1) * PART : number * PART])
    collected = []
    # Collection runs after the object is written but before its row goes live.
    env.store.after_put = lambda bucket, name: collected.extend(env.gc())
    assert env.complete(session, 2, sha256(data)).status_code == 201
    assert "synapse-checkpoints/churn/job-2/latest.ckpt" not in collected
    assert env.get("checkpoints", "churn/job-2/latest.ckpt").content == data
