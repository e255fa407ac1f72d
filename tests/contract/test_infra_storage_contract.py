"""Object-store contract on the in-memory adapter, plus its checksum and validation rules."""

from __future__ import annotations

import pytest

from shared.errors import ValidationError
from shared.storage.base import (
    MIN_PART_SIZE,
    ChecksumMismatchError,
    validate_object_name,
    validate_part_size,
)
from shared.storage.memory import InMemoryObjectStore
from tests.utils.infra_contracts import ObjectStoreContract

pytestmark = pytest.mark.training


class TestInMemoryObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryObjectStore()

    @pytest.fixture
    def bucket(self, store):
        store.ensure_bucket("synapse-contract")
        return "synapse-contract"


@pytest.fixture
def store():
    store = InMemoryObjectStore()
    store.ensure_bucket("synapse-artifacts")
    return store


def test_corrupted_object_fails_its_checksum_on_download(store):
    store.put("synapse-artifacts", "m.npz", b"weights")
    store.corrupt("synapse-artifacts", "m.npz", b"weightz")
    with pytest.raises(ChecksumMismatchError) as info:
        store.get("synapse-artifacts", "m.npz")
    assert info.value.status_code == 502
    assert store.get("synapse-artifacts", "m.npz", verify=False) == b"weightz"


def test_parts_are_uploaded_at_the_requested_size(store):
    store.put(
        "synapse-artifacts", "big.bin", bytes(MIN_PART_SIZE * 2 + 10), part_size=MIN_PART_SIZE
    )
    assert [size for _, _, size in store.uploaded_parts] == [MIN_PART_SIZE, MIN_PART_SIZE, 10]


@pytest.mark.parametrize("part_size", [MIN_PART_SIZE - 1, 0, "8MiB"])
def test_part_size_outside_s3_limits_is_refused(store, part_size):
    with pytest.raises(ValidationError):
        store.put("synapse-artifacts", "a.bin", b"x", part_size=part_size)


@pytest.mark.parametrize("bucket", ["ab", "Synapse", "-synapse", "synapse..x", "a" * 64])
def test_invalid_bucket_names_are_refused(bucket):
    with pytest.raises(ValidationError):
        InMemoryObjectStore().ensure_bucket(bucket)


@pytest.mark.parametrize("name", ["", "/abs", "a/../b", "a//b", "tab\tname"])
def test_invalid_object_names_are_refused(store, name):
    with pytest.raises(ValidationError):
        store.put("synapse-artifacts", name, b"x")


def test_s3_limits_bound_the_part_size_and_object_names_may_hold_spaces():
    assert validate_part_size(5 * 1024**3) == 5 * 1024**3
    with pytest.raises(ValidationError, match="part_size"):
        validate_part_size(5 * 1024**3 + 1)
    assert validate_object_name("reports/q1 summary.csv") == "reports/q1 summary.csv"
    with pytest.raises(ValidationError):
        validate_object_name("reports/q1\x1fsummary.csv")
