"""Object-store contract and bucket bootstrap on the real S3 server, through the minio client."""

from __future__ import annotations

import pytest

from infra.tests.live.support import unique
from shared.backends import create
from shared.storage.bootstrap import BucketBootstrapError, ensure_buckets
from shared.storage.minio import MinioObjectStore
from tests.utils.infra_contracts import ObjectStoreContract


@pytest.fixture(scope="module")
def s3(infra_settings):
    return create("storage", "s3", infra_settings)


def empty_and_remove(store, bucket: str) -> None:
    """Delete a bucket made by a test, with everything in it."""
    if store.bucket_exists(bucket):
        for obj in store.list(bucket):
            store.delete(bucket, obj.name)
        store.remove_bucket(bucket)


class TestMinioObjectStore(ObjectStoreContract):
    @pytest.fixture
    def store(self, s3):
        return s3

    @pytest.fixture
    def bucket(self, s3):
        name = unique("synapse-t")
        assert s3.ensure_bucket(name) is True
        yield name
        empty_and_remove(s3, name)


def test_bucket_bootstrap_creates_then_finds_each_bucket(s3):
    buckets = [unique("synapse-artifacts"), unique("synapse-datasets")]
    try:
        assert ensure_buckets(s3, buckets) == buckets
        assert ensure_buckets(s3, buckets) == []
        assert all(s3.bucket_exists(b) for b in buckets)
    finally:
        for bucket in buckets:
            empty_and_remove(s3, bucket)


def test_bucket_bootstrap_against_an_unreachable_server_names_the_bucket():
    store = MinioObjectStore(endpoint="127.0.0.1:9", timeout=0.5)
    with pytest.raises(BucketBootstrapError, match="synapse-artifacts"):
        ensure_buckets(store, ["synapse-artifacts"])
