"""Resumable uploads against the storage service as it starts with its default settings.

A session's state lives in the database, so a client that lost its connection asks the service
what it holds and sends only the rest; completion joins the parts in part-number order.
"""

from __future__ import annotations

import pytest

from tests.utils.storage import blob, make_storage_env, sha256, storage_client

pytestmark = pytest.mark.storage

PART = 20 * 1024


@pytest.fixture
def env():
    return make_storage_env()


def split(data: bytes, size: int = PART) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_client_that_reconnects_resumes_the_session_and_stores_the_whole_object(env):
    data = blob(3 * PART + 777, seed=3)
    parts = split(data)
    session = env.open_session("checkpoints", "churn/job-7/step-00040.ckpt")
    for number in (1, 2):
        assert env.put_part(session, number, parts[number - 1]).status_code == 200
    held = env.client.get(f"/api/v1/uploads/{session}").json()
    assert [p["number"] for p in held["parts"]] == [1, 2] and held["state"] == "open"
    for number in (3, 4):
        assert env.put_part(session, number, parts[number - 1]).status_code == 200
    done = env.complete(session, 4, sha256(data))
    assert done.status_code == 201, done.text
    assert env.get("checkpoints", "churn/job-7/step-00040.ckpt").content == data


def test_parts_sent_out_of_order_are_joined_by_part_number(env):
    data = blob(3 * PART, seed=4)
    parts = split(data)
    session = env.open_session("datasets", "shards/train-000.csv")
    for number in (3, 1, 2):
        assert env.put_part(session, number, parts[number - 1]).status_code == 200
    assert env.complete(session, 3, sha256(data)).status_code == 201
    assert env.get("datasets", "shards/train-000.csv").content == data


def test_completing_without_every_part_is_a_conflict_naming_the_missing_ones(env):
    data = blob(3 * PART, seed=5)
    parts = split(data)
    session = env.open_session("artifacts", "churn/9/model.npz")
    assert env.put_part(session, 1, parts[0]).status_code == 200
    assert env.put_part(session, 3, parts[2]).status_code == 200
    response = env.complete(session, 3, sha256(data))
    assert response.status_code == 409
    assert response.json()["details"]["missing"] == [2]
    assert env.get("artifacts", "churn/9/model.npz").status_code == 404


def test_completing_twice_returns_the_same_object_once(env):
    data = blob(2 * PART, seed=6)
    session = env.open_session("artifacts", "churn/10/model.npz")
    for number, part in enumerate(split(data), start=1):
        env.put_part(session, number, part)
    first = env.complete(session, 2, sha256(data))
    again = env.complete(session, 2, sha256(data))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["object"] == first.json()["object"]
    listing = env.client.get("/api/v1/objects/artifacts", params={"prefix": "churn/10/"}).json()
    assert [item["key"] for item in listing["items"]] == ["churn/10/model.npz"]


def test_part_whose_bytes_do_not_match_its_checksum_is_refused_and_can_be_resent(env):
    data = blob(2 * PART, seed=8)
    parts = split(data)
    session = env.open_session("checkpoints", "churn/job-8/step-00001.ckpt")
    refused = env.put_part(session, 1, parts[0], digest=sha256(parts[1]))
    assert refused.status_code == 422
    assert env.client.get(f"/api/v1/uploads/{session}").json()["parts"] == []
    for number, part in enumerate(parts, start=1):
        assert env.put_part(session, number, part).status_code == 200
    assert env.complete(session, 2, sha256(data)).status_code == 201


def test_object_whose_whole_checksum_differs_is_not_stored(env):
    data = blob(2 * PART, seed=9)
    session = env.open_session("artifacts", "churn/11/model.npz")
    for number, part in enumerate(split(data), start=1):
        env.put_part(session, number, part)
    response = env.complete(session, 2, sha256(data + b"!"))
    assert response.status_code == 422
    assert env.get("artifacts", "churn/11/model.npz").status_code == 404


def test_range_across_a_part_boundary_returns_those_bytes(env):
    data = blob(2 * PART, seed=10)
    session = env.open_session("datasets", "shards/eval.csv")
    for number, part in enumerate(split(data), start=1):
        env.put_part(session, number, part)
    env.complete(session, 2, sha256(data))
    first, last = PART - 100, PART + 99
    response = env.get("datasets", "shards/eval.csv", headers={"Range": f"bytes={first}-{last}"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
    assert response.content == data[first : last + 1]


def test_range_past_the_end_is_not_satisfiable(env):
    data = blob(PART + 10, seed=11)
    session = env.open_session("datasets", "shards/tail.csv")
    for number, part in enumerate(split(data), start=1):
        env.put_part(session, number, part)
    assert env.complete(session, 2, sha256(data)).status_code == 201
    response = env.get("datasets", "shards/tail.csv", headers={"Range": f"bytes={len(data)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"


def test_typed_client_uploads_in_parts_and_reads_a_range(env):
    client = storage_client(env.app)
    data = blob(5 * PART // 2, seed=12)
    stored = client.upload("checkpoints", "churn/job-4/step-00003.ckpt", data, part_size=PART)
    assert stored["sha256"] == sha256(data)
    tail = client.get("checkpoints", "churn/job-4/step-00003.ckpt", byte_range="bytes=-100")
    assert tail == data[-100:]


def test_an_upload_of_exactly_the_size_limit_is_stored_and_one_byte_more_is_refused():
    limited = make_storage_env(max_upload_size=2 * PART)
    data = blob(2 * PART + 1, seed=5)
    for payload, expected in ((data[:-1], 201), (data, 413)):
        session = limited.open_session("checkpoints", f"limit/{len(payload)}.ckpt")
        for number, part in enumerate(split(payload), start=1):
            assert limited.put_part(session, number, part).status_code == 200
        done = limited.complete(session, len(split(payload)), sha256(payload))
        assert done.status_code == expected, done.text
