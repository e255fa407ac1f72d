"""Held-out: key rules on upload sessions and on other look-alike characters."""

from __future__ import annotations

import pytest

from tests.utils.storage import make_storage_env, send_raw

pytestmark = pytest.mark.storage


def test_upload_session_for_an_encoded_or_lookalike_parent_key_is_refused():
    env = make_storage_env()
    for key in [
        "models/%2E%2E/%2e%2e/shadow",
        "\uff0e\uff0e/\uff0e\uff0e/shadow",
        "a/\u2024\u2024/b",
    ]:
        response = env.client.post("/api/v1/uploads", json={"namespace": "datasets", "key": key})
        assert response.status_code == 400, (key, response.text)
        assert response.json()["error"] == "invalid_key"


def test_ligature_key_cannot_replace_the_plain_spelling():
    env = make_storage_env()
    assert env.put("checkpoints", "offsets/latest.ckpt", b"genuine").status_code == 201
    response = send_raw(
        env.app, "PUT", "/api/v1/objects/checkpoints/o%EF%AC%80sets/latest.ckpt", b"x"
    )
    assert response.status_code == 400
    assert env.get("checkpoints", "offsets/latest.ckpt").content == b"genuine"
