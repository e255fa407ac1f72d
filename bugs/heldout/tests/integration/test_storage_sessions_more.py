"""Held-out: upload sessions with larger parts, through the typed client, on default settings."""

from __future__ import annotations

import pytest

from tests.utils.storage import blob, make_storage_env, storage_client

pytestmark = pytest.mark.storage


def test_client_upload_in_hundred_kibibyte_parts_round_trips():
    env = make_storage_env()
    client = storage_client(env.app)
    data = blob(250 * 1024, seed=77)
    stored = client.upload("datasets", "wine/red.parquet", data, part_size=100 * 1024)
    assert stored["size"] == len(data)
    assert client.get("datasets", "wine/red.parquet") == data


def test_single_part_just_over_sixteen_kibibytes_is_accepted():
    env = make_storage_env()
    client = storage_client(env.app)
    data = blob(16 * 1024 + 1, seed=78)
    assert client.upload("artifacts", "wine/1/model.npz", data, part_size=len(data))["size"] == len(
        data
    )
