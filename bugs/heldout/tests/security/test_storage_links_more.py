"""Held-out: signed links in the other direction between namespaces and on longer lifetimes."""

from __future__ import annotations

import pytest

from tests.utils.storage import make_storage_env

pytestmark = pytest.mark.storage


def link(env, namespace, key, expires_in=900):
    body = {"namespace": namespace, "key": key, "expires_in": expires_in}
    return env.client.post("/api/v1/presign", json=body).json()["url"]


def test_link_for_an_artifact_does_not_open_the_dataset_of_the_same_key():
    env = make_storage_env()
    env.put("artifacts", "shared/name.json", b'{"kind": "artifact"}', "application/json")
    env.put("datasets", "shared/name.json", b'{"kind": "dataset"}', "application/json")
    url = link(env, "artifacts", "shared/name.json")
    assert env.client.get(url).json() == {"kind": "artifact"}
    forged = url.replace("/presigned/artifacts/", "/presigned/datasets/")
    assert env.client.get(forged).status_code == 403


def test_five_minute_link_is_refused_exactly_five_minutes_later():
    env = make_storage_env()
    env.put("datasets", "iris/train.csv", b"a,b\n", "text/csv")
    url = link(env, "datasets", "iris/train.csv", expires_in=300)
    env.clock.advance(299)
    assert env.client.get(url).status_code == 200
    env.clock.advance(1)
    assert env.client.get(url).status_code == 403
