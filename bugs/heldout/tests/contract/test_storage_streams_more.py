"""Held-out: uploads from real files opened part-way, with other sizes and names."""

from __future__ import annotations

import hashlib

import pytest

from shared.storage.memory import InMemoryObjectStore

pytestmark = pytest.mark.training


def test_file_on_disk_opened_past_its_header_stores_exactly_the_remaining_bytes(tmp_path):
    payload = bytes(range(256)) * 37
    path = tmp_path / "checkpoint.bin"
    path.write_bytes(b"HDR1" + payload)
    store = InMemoryObjectStore()
    store.ensure_bucket("ckpt-store")
    with path.open("rb") as fh:
        fh.seek(4)
        info = store.put("ckpt-store", "runs/7/epoch-3.bin", fh)
    assert info.size == len(payload)
    assert info.sha256 == hashlib.sha256(payload).hexdigest()
    assert store.get("ckpt-store", "runs/7/epoch-3.bin") == payload
