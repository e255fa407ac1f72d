"""Hostile object keys, forged links and oversized or mistyped bodies against the storage API.

Every refusal is a 4xx problem and leaves the object store exactly as it was.
"""

from __future__ import annotations

import pytest

from tests.utils.storage import HookedStore, ManualClock, make_storage_env, send_raw

pytestmark = pytest.mark.storage

# Keys as they travel in the URL; an HTTP server percent-decodes the path once.
HOSTILE_PATHS = {
    "double-encoded-parent": "%252e%252e/escape.npz",
    "double-encoded-parents-inside": "runs/%252E%252E/%252E%252E/etc/passwd",
    "double-encoded-backslash": "..%255Cwindows.ini",
    "double-encoded-nul": "model.npz%2500.txt",
    "fullwidth-dots": "runs/%EF%BC%8E%EF%BC%8E/secret.npz",
    "two-dot-leader": "%E2%80%A5/escape.bin",
    "ligature": "%EF%AC%81les/train.csv",
}


def put_raw(env, namespace, path, body, content_type="application/octet-stream"):
    return send_raw(
        env.app, "PUT", f"/api/v1/objects/{namespace}/{path}", body, {"content-type": content_type}
    )


@pytest.fixture
def env():
    return make_storage_env(store=HookedStore(), clock=ManualClock())


@pytest.mark.parametrize("path", HOSTILE_PATHS.values(), ids=HOSTILE_PATHS.keys())
def test_hostile_key_is_refused_and_nothing_is_stored(env, path):
    response = put_raw(env, "artifacts", path, b"payload")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_key"
    assert env.store.puts == []
    assert env.client.get("/api/v1/objects/artifacts").json()["items"] == []


def test_parent_segment_sent_percent_encoded_is_refused(env):
    response = put_raw(env, "datasets", "%2E%2E/%2E%2E/etc/passwd", b"x")
    assert response.status_code == 400
    assert env.store.puts == []


def test_lookalike_slash_cannot_overwrite_another_object(env):
    assert env.put("datasets", "reports/q1.csv", b"a,b\n1,2\n", "text/csv").status_code == 201
    response = put_raw(env, "datasets", "reports%EF%BC%8Fq1.csv", b"forged\n", "text/csv")
    assert response.status_code == 400
    assert env.get("datasets", "reports/q1.csv").content == b"a,b\n1,2\n"


def test_signed_link_opens_only_the_object_it_was_signed_for(env):
    env.put("checkpoints", "churn/job-1/step-00010.ckpt", b"checkpoint bytes")
    env.put("artifacts", "churn/job-1/step-00010.ckpt", b"another object")
    url = env.client.post(
        "/api/v1/presign",
        json={"namespace": "checkpoints", "key": "churn/job-1/step-00010.ckpt"},
    ).json()["url"]
    assert env.client.get(url).content == b"checkpoint bytes"
    forged = url.replace("/presigned/checkpoints/", "/presigned/artifacts/")
    response = env.client.get(forged)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_signature"


def test_signed_link_with_a_later_expiry_is_refused(env):
    env.put("artifacts", "churn/1/model.npz", b"weights")
    body = {"namespace": "artifacts", "key": "churn/1/model.npz", "expires_in": 60}
    url = env.client.post("/api/v1/presign", json=body).json()["url"]
    path, _, query = url.partition("?")
    expires = int(query.split("expires=")[1].split("&")[0])
    env.clock.advance(120)
    extended = url.replace(f"expires={expires}", f"expires={expires + 3600}")
    assert env.client.get(extended).status_code == 403
    assert env.client.get(url).status_code == 403


def test_signed_link_is_refused_from_its_expiry_second_on(env):
    env.put("artifacts", "churn/1/model.npz", b"weights")
    body = {"namespace": "artifacts", "key": "churn/1/model.npz", "expires_in": 30}
    url = env.client.post("/api/v1/presign", json=body).json()["url"]
    env.clock.advance(29)
    assert env.client.get(url).status_code == 200
    env.clock.advance(1)
    response = env.client.get(url)
    assert response.status_code == 403
    assert "expired" in response.json()["detail"]


def test_oversized_single_upload_is_refused_with_the_limit_named():
    env = make_storage_env(store=HookedStore(), max_object_size=1024)
    response = env.put("datasets", "big.bin", b"\0" * 1025)
    assert response.status_code == 413
    assert "1024" in response.json()["detail"]
    assert env.store.puts == []


def test_upload_with_a_type_outside_the_allow_list_is_refused(env):
    response = env.put("artifacts", "page.html", b"<script>", "text/html")
    assert response.status_code == 415
    assert "text/html" in response.json()["detail"]
    assert env.store.puts == []
