"""Bucket bootstrap: every platform bucket is created, and any failure stops it loudly."""

from __future__ import annotations

import io

import pytest
from minio.error import S3Error

from shared.bootstrap.runner import main
from shared.errors import ServiceUnavailableError
from shared.infra_settings import InfraSettings
from shared.storage.base import StorageError
from shared.storage.bootstrap import PLATFORM_BUCKETS, BucketBootstrapError, ensure_buckets
from shared.storage.memory import InMemoryObjectStore
from shared.storage.minio import MinioObjectStore
from tests.utils.infra import Recorder, write_result

pytestmark = pytest.mark.training


class RefusingStore(InMemoryObjectStore):
    """A store whose server refuses to create one bucket (quota, permissions...)."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    def ensure_bucket(self, bucket: str) -> bool:
        if bucket == self.refused:
            raise ServiceUnavailableError(f"AccessDenied creating {bucket}")
        return super().ensure_bucket(bucket)


class VanishingStore(InMemoryObjectStore):
    """A store that acknowledges bucket creation but never keeps the bucket."""

    def ensure_bucket(self, bucket: str) -> bool:
        return True

    def bucket_exists(self, bucket: str) -> bool:
        return False


def s3_error(code: str) -> S3Error:
    return S3Error(None, code, f"{code} message", "/synapse-artifacts", "req-1", "host-1")


def test_bootstrap_creates_every_platform_bucket_once():
    store = InMemoryObjectStore()
    assert ensure_buckets(store) == list(PLATFORM_BUCKETS)
    assert ensure_buckets(store) == []
    assert all(store.bucket_exists(b) for b in PLATFORM_BUCKETS)


def test_refused_bucket_creation_raises_naming_the_bucket():
    store = RefusingStore("synapse-datasets")
    with pytest.raises(BucketBootstrapError) as info:
        ensure_buckets(store)
    assert "synapse-datasets" in info.value.message
    assert info.value.details["bucket"] == "synapse-datasets"
    assert not store.bucket_exists("synapse-checkpoints")


def test_bucket_missing_after_creation_fails_the_bootstrap():
    with pytest.raises(BucketBootstrapError, match="synapse-artifacts"):
        ensure_buckets(VanishingStore())


def test_storage_command_exits_non_zero_with_one_line_naming_the_bucket():
    out = io.StringIO()
    code = main(
        ["storage"],
        settings=InfraSettings(),
        builders={"storage": lambda settings: RefusingStore("synapse-checkpoints")},
        out=out,
    )
    assert code == 1
    [line] = out.getvalue().splitlines()
    assert line.startswith("storage: FAILED") and "synapse-checkpoints" in line


def test_minio_adapter_surfaces_a_refused_make_bucket():
    client = Recorder({"bucket_exists": False, "make_bucket": s3_error("AccessDenied")})
    with pytest.raises(StorageError) as info:
        MinioObjectStore(client).ensure_bucket("synapse-artifacts")
    assert info.value.details["s3_code"] == "AccessDenied"


def test_minio_adapter_treats_a_bucket_it_already_owns_as_existing():
    client = Recorder({"bucket_exists": False, "make_bucket": s3_error("BucketAlreadyOwnedByYou")})
    assert MinioObjectStore(client).ensure_bucket("synapse-artifacts") is False


def test_minio_adapter_uploads_with_part_size_and_sha256_metadata():
    client = Recorder({"put_object": write_result("abc-2")})
    info = MinioObjectStore(client).put("synapse-datasets", "d.bin", b"rows", part_size=6 << 20)
    [(args, kwargs)] = client.called("put_object")
    assert args[:2] == ("synapse-datasets", "d.bin") and args[3] == 4
    assert kwargs["part_size"] == 6 << 20
    assert kwargs["metadata"]["sha256"] == info.sha256
    assert (info.etag, info.parts) == ("abc-2", 2)


def test_minio_client_is_built_from_the_settings_without_connecting():
    store = MinioObjectStore(endpoint="s3.internal:9000", secure=True, region="eu-west-1")
    config = store.client_config()
    assert (config["endpoint"], config["secure"], config["region"]) == (
        "s3.internal:9000",
        True,
        "eu-west-1",
    )
    assert store.client._base_url.host == "s3.internal:9000"
