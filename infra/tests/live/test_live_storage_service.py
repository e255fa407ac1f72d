"""The storage service on the real stack: rows in models_db on PostgreSQL, objects on S3.

The service runs under uvicorn on a loopback port (so the signed link is fetched over real
HTTP), its object store is the minio adapter on the S3 server, its bus is Kafka. Its rows live
in a schema of this run inside models_db: garbage collection scans every row of its tables,
so a private schema keeps runs of other checkouts out of its reach, and dropping it removes
every row the run made. Each check reads the S3 bucket directly, not only the API's answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from infra.tests.live.support import UvicornThread, private_schema, unique
from services.storage.config import Settings
from services.storage.main import create_app
from services.storage.store import UploadPartRow, UploadSessionRow
from shared.backends import create
from shared.bootstrap.runner import run_steps
from shared.db import session_scope
from shared.storage.base import ObjectNotFoundError, ObjectStore
from shared.storage.bootstrap import ARTIFACTS_BUCKET, DATASETS_BUCKET, PLATFORM_BUCKETS

OCTET = {"Content-Type": "application/octet-stream"}
PART = 256 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob(size: int, seed: int) -> bytes:
    """Return ``size`` deterministic bytes that differ with ``seed``."""
    out, counter = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 64
        counter += 1
    return bytes(out[:size])


@dataclass
class Live:
    """The running service, a client of it, the S3 store behind it and this run's key prefix."""

    http: httpx.Client
    url: str
    s3: ObjectStore
    prefix: str

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def put(self, namespace: str, key: str, data: bytes) -> httpx.Response:
        return self.http.put(f"/api/v1/objects/{namespace}/{key}", content=data, headers=OCTET)

    def open_session(self, key: str) -> str:
        response = self.http.post("/api/v1/uploads", json={"namespace": "artifacts", "key": key})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def put_part(self, session: str, number: int, data: bytes, digest: str | None = None):
        return self.http.put(
            f"/api/v1/uploads/{session}/parts/{number}",
            content=data,
            headers={**OCTET, "X-Content-SHA256": digest or sha256(data)},
        )

    def complete(self, session: str, parts: int, digest: str) -> httpx.Response:
        body = {"parts": parts, "sha256": digest}
        return self.http.post(f"/api/v1/uploads/{session}/complete", json=body)


@pytest.fixture(scope="module")
def live(infra_settings) -> Iterator[Live]:
    """Serve the storage service over HTTP on the stack; remove its objects and rows after."""
    results = run_steps(["kafka", "storage"], settings=infra_settings)
    assert all(result.ok for result in results), [result.line() for result in results]
    s3 = create("storage", "s3", infra_settings)
    bus = create("events", "kafka", infra_settings)
    prefix = unique("live-storage")
    try:
        with private_schema(infra_settings, "models_db", "live_storage") as url:
            settings = Settings(database_url=url, gc_grace_seconds=0)
            app = create_app(settings, storage=lambda: s3, bus=lambda: bus)
            factory = app.state.storage.objects.session_factory
            try:
                with UvicornThread(app) as server, httpx.Client(base_url=server.url) as http:
                    yield Live(http, server.url, s3, prefix)
            finally:
                remove_objects(s3, prefix, factory)
                factory.kw["bind"].dispose()
    finally:
        bus.close()


def remove_objects(s3: ObjectStore, prefix: str, factory: sessionmaker[Session]) -> None:
    """Delete the run's objects and the parts of its upload sessions from the buckets."""
    with session_scope(factory) as session:
        parts = session.execute(
            select(UploadSessionRow.bucket, UploadPartRow.object_name).join(
                UploadSessionRow, UploadSessionRow.id == UploadPartRow.session_id
            )
        ).all()
    for bucket, name in parts:
        s3.delete(bucket, name)
    for bucket in PLATFORM_BUCKETS:
        for info in s3.list(bucket, f"{prefix}/"):
            s3.delete(bucket, info.name)


def test_multipart_upload_checks_every_part_and_the_whole_object(live):
    key = live.key("model.bin")
    data = blob(3 * PART + 1000, seed=1)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    session = live.open_session(key)
    refused = live.put_part(session, 1, parts[0], digest=sha256(b"other bytes"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "checksum_mismatch"
    for number, part in enumerate(parts, start=1):
        sent = live.put_part(session, number, part)
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"number": number, "size": len(part), "sha256": sha256(part)}
    wrong = live.complete(session, len(parts), sha256(data[:-1]))
    assert wrong.status_code == 422, wrong.text
    with pytest.raises(ObjectNotFoundError):
        live.s3.stat(ARTIFACTS_BUCKET, key)

    done = live.complete(session, len(parts), sha256(data))
    assert done.status_code == 201, done.text
    assert done.json()["object"]["size"] == len(data)
    assert live.s3.get(ARTIFACTS_BUCKET, key) == data
    head = live.http.head(f"/api/v1/objects/artifacts/{key}")
    assert head.headers["x-content-sha256"] == sha256(data)
    again = live.complete(session, len(parts), sha256(data))
    assert (again.status_code, again.json()["object"]) == (200, done.json()["object"])


def test_a_resumed_upload_sends_only_the_missing_parts(live):
    key = live.key("resumed.bin")
    data = blob(3 * PART, seed=2)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    session = live.open_session(key)
    for number in (1, 3):
        assert live.put_part(session, number, parts[number - 1]).status_code == 200
    early = live.complete(session, 3, sha256(data))
    assert early.status_code == 409, early.text
    assert early.json()["details"]["missing"] == [2]

    with httpx.Client(base_url=live.url, timeout=20) as reconnected:  # a new client resumes
        state = reconnected.get(f"/api/v1/uploads/{session}").json()
        received = {part["number"]: part["sha256"] for part in state["parts"]}
        assert received == {1: sha256(parts[0]), 3: sha256(parts[2])}
        missing = [n for n in (1, 2, 3) if n not in received]
        for number in missing:
            headers = {**OCTET, "X-Content-SHA256": sha256(parts[number - 1])}
            url = f"/api/v1/uploads/{session}/parts/{number}"
            assert reconnected.put(url, content=parts[number - 1], headers=headers).is_success
        body = {"parts": 3, "sha256": sha256(data)}
        done = reconnected.post(f"/api/v1/uploads/{session}/complete", json=body)
    assert done.status_code == 201, done.text
    assert missing == [2]
    assert live.s3.get(ARTIFACTS_BUCKET, key) == data


def test_a_ranged_download_returns_exactly_the_bytes_asked_for(live):
    key = live.key("ranged.bin")
    data = blob(100_000, seed=3)
    assert live.put("artifacts", key, data).status_code == 201
    path = f"/api/v1/objects/artifacts/{key}"
    middle = live.http.get(path, headers={"Range": "bytes=1000-1999"})
    assert middle.status_code == 206
    assert middle.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert middle.content == data[1000:2000]
    tail = live.http.get(path, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, data[-10:])
    beyond = live.http.get(path, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_a_presigned_link_downloads_over_plain_http_and_nothing_else(live):
    key = live.key("report.csv")
    data = b"id,score\n" + b"".join(b"%d,%d\n" % (i, i * 7 % 13) for i in range(2000))
    headers = {"Content-Type": "text/csv"}
    stored = live.http.put(f"/api/v1/objects/artifacts/{key}", content=data, headers=headers)
    assert stored.status_code == 201, stored.text
    signed = live.http.post(
        "/api/v1/presign", json={"namespace": "artifacts", "key": key, "expires_in": 60}
    )
    assert signed.status_code == 200, signed.text
    url = live.url + signed.json()["url"]
    fetched = httpx.get(url, timeout=20)  # no client state: only the link
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == data
    assert fetched.headers["content-type"].startswith("text/csv")
    other = url.replace("report.csv", "other.csv")
    assert httpx.get(other, timeout=20).status_code == 403
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert httpx.get(tampered, timeout=20).status_code == 403


def test_a_committed_dataset_version_is_content_addressed_and_immutable(live):
    dataset = unique("live-ds")
    files = {live.key("train.csv"): b"a,b\n1,2\n", live.key("test.csv"): b"a,b\n3,4\n"}
    for key, data in files.items():
        headers = {"Content-Type": "text/csv"}
        stored = live.http.put(f"/api/v1/objects/datasets/{key}", content=data, headers=headers)
        assert stored.status_code == 201, stored.text
    url = f"/api/v1/datasets/{dataset}/versions"
    first = live.http.post(url, json={"keys": list(files)})
    assert first.status_code == 201, first.text
    version = first.json()["version"]
    again = live.http.post(url, json={"keys": list(reversed(files))})
    assert (again.status_code, again.json()["version"]) == (200, version)

    key = live.key("train.csv")
    overwrite = live.http.put(
        f"/api/v1/objects/datasets/{key}",
        content=b"a,b\n9,9\n",
        headers={"Content-Type": "text/csv"},
    )
    assert overwrite.status_code == 409, overwrite.text
    assert live.http.delete(f"/api/v1/objects/datasets/{key}").status_code == 409
    assert live.http.patch(f"{url}/{version}", json={}).status_code == 409
    manifest = live.http.get(f"{url}/{version}").json()["objects"]
    assert {entry["key"]: entry["sha256"] for entry in manifest} == {
        k: sha256(v) for k, v in files.items()
    }
    assert all(live.s3.get(DATASETS_BUCKET, k) == v for k, v in files.items())


def test_a_tombstoned_object_leaves_the_bucket_at_garbage_collection(live):
    kept, dropped = live.key("kept.bin"), live.key("dropped.bin")
    assert live.put("artifacts", kept, blob(5000, seed=4)).status_code == 201
    assert live.put("artifacts", kept, blob(6000, seed=5)).status_code == 201  # replaces it
    assert live.put("artifacts", dropped, blob(7000, seed=6)).status_code == 201
    assert live.http.delete(f"/api/v1/objects/artifacts/{dropped}").status_code == 204
    assert live.http.get(f"/api/v1/objects/artifacts/{dropped}").status_code == 404
    assert live.s3.stat(ARTIFACTS_BUCKET, dropped).size == 7000  # a tombstone, bytes still there

    collected = live.http.post("/api/v1/gc")
    assert collected.status_code == 200, collected.text
    assert f"{ARTIFACTS_BUCKET}/{dropped}" in collected.json()["deleted"]
    assert f"{ARTIFACTS_BUCKET}/{kept}" not in collected.json()["deleted"]
    with pytest.raises(ObjectNotFoundError):
        live.s3.stat(ARTIFACTS_BUCKET, dropped)
    assert live.s3.get(ARTIFACTS_BUCKET, kept) == blob(6000, seed=5)
    listed = live.http.get("/api/v1/objects/artifacts", params={"prefix": f"{live.prefix}/"})
    assert dropped not in [item["key"] for item in listed.json()["items"]]
