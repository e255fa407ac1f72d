"""Held-out: how a refused signed link answers, for a link altered in its signature."""

from __future__ import annotations

import pytest

from tests.utils.storage import make_storage_env

pytestmark = pytest.mark.storage


def test_a_link_with_one_signature_character_changed_is_forbidden_to_everyone():
    env = make_storage_env()
    env.put("datasets", "sales/2024/q3.csv", b"region,total\nnorth,7\n", "text/csv")
    body = {"namespace": "datasets", "key": "sales/2024/q3.csv", "expires_in": 600}
    url = env.client.post("/api/v1/presign", json=body).json()["url"]
    last = url[-1]
    altered = url[:-1] + ("0" if last != "0" else "1")
    response = env.client.get(altered)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_signature"
    assert env.client.get(url).content == b"region,total\nnorth,7\n"
