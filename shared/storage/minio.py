"""MinIO (S3) adapter of the object-store port, on the `minio` client; connects on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from typing_extensions import override

from shared.storage.base import (
    DEFAULT_PART_SIZE,
    SHA256_METADATA,
    BucketNotFoundError,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    StorageError,
    as_stream,
    sha256_and_length,
    validate_bucket,
    validate_object_name,
    validate_part_size,
    verify_checksum,
)

_META_PREFIX = "x-amz-meta-"
_EXISTING_BUCKET_CODES = {"BucketAlreadyOwnedByYou"}


def user_metadata(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Return the x-amz-meta-* headers as a lower-case dict without the prefix."""
    return {
        key.lower()[len(_META_PREFIX) :]: value
        for key, value in (headers or {}).items()
        if key.lower().startswith(_META_PREFIX)
    }


def clean_etag(etag: str | None) -> str:
    """Return an ETag without the quotes S3 wraps it in."""
    return (etag or "").strip('"')


def make_http_client(timeout: float = 10.0, retries: int = 2) -> urllib3.PoolManager:
    """Return the urllib3 pool the client uses: bounded timeouts, few retries, so errors surface."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        retries=urllib3.Retry(
            total=retries, backoff_factor=0.1, status_forcelist=(500, 502, 503, 504)
        ),
    )


class MinioObjectStore(ObjectStore):
    """Object store on a MinIO or other S3-compatible server."""

    def __init__(
        self,
        client: Any = None,
        *,
        endpoint: str = "localhost:9000",
        access_key: str = "minioadmin",
        secret_key: str = "minioadmin",
        secure: bool = False,
        region: str = "us-east-1",
        timeout: float = 10.0,
        client_factory: Callable[..., Any] = Minio,
    ) -> None:
        self._client = client
        self.endpoint = endpoint
        self.region = region
        self.timeout = timeout
        self._options = {"access_key": access_key, "secret_key": secret_key, "secure": secure}
        self._factory = client_factory
        self._lock = threading.Lock()

    def client_config(self) -> dict[str, Any]:
        """Return the keyword arguments of the Minio client."""
        return {
            "endpoint": self.endpoint,
            **self._options,
            "region": self.region,
            "http_client": make_http_client(self.timeout),
        }

    @property
    def client(self) -> Any:
        """Return the Minio client, built on first use (building it does not connect)."""
        with self._lock:
            if self._client is None:
                self._client = self._factory(**self.client_config())
            return self._client

    @override
    def bucket_exists(self, bucket: str) -> bool:
        with self._errors(bucket):
            return bool(self.client.bucket_exists(validate_bucket(bucket)))

    @override
    def ensure_bucket(self, bucket: str) -> bool:
        if self.bucket_exists(bucket):
            return False
        try:
            with self._errors(bucket):
                self.client.make_bucket(bucket, location=self.region)
        except StorageError as exc:
            if (exc.details or {}).get("s3_code") in _EXISTING_BUCKET_CODES:
                return False
            raise
        return True

    @override
    def remove_bucket(self, bucket: str) -> None:
        with self._errors(bucket):
            self.client.remove_bucket(validate_bucket(bucket))

    @override
    def put(
        self,
        bucket: str,
        name: str,
        data: bytes | BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        part_size: int = DEFAULT_PART_SIZE,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        validate_bucket(bucket)
        validate_object_name(name)
        validate_part_size(part_size)
        stream = as_stream(data)
        sha256, length = sha256_and_length(stream)
        user = {k.lower(): v for k, v in (metadata or {}).items()}
        user[SHA256_METADATA] = sha256
        with self._errors(bucket, name):
            result = self.client.put_object(
                bucket,
                name,
                stream,
                length,
                content_type=content_type,
                metadata=user,
                part_size=part_size,
            )
        return ObjectInfo(
            bucket, name, length, clean_etag(result.etag), sha256, content_type, metadata=user
        )

    @override
    def stat(self, bucket: str, name: str) -> ObjectInfo:
        validate_bucket(bucket)
        validate_object_name(name)
        with self._errors(bucket, name):
            obj = self.client.stat_object(bucket, name)
        return self._info(bucket, name, obj.size, obj.etag, obj.content_type, obj.metadata)

    @override
    def get(self, bucket: str, name: str, *, verify: bool = True) -> bytes:
        validate_bucket(bucket)
        validate_object_name(name)
        with self._errors(bucket, name):
            response = self.client.get_object(bucket, name)
            try:
                body = response.read()
                headers = dict(response.headers)
            finally:
                response.close()
                response.release_conn()
        info = self._info(
            bucket, name, len(body), headers.get("ETag"), headers.get("Content-Type"), headers
        )
        return verify_checksum(info, body) if verify else body

    @override
    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        validate_bucket(bucket)
        with self._errors(bucket):
            found = list(self.client.list_objects(bucket, prefix=prefix or None, recursive=True))
        return [
            ObjectInfo(bucket, obj.object_name, obj.size or 0, clean_etag(obj.etag), None)
            for obj in sorted(found, key=lambda o: o.object_name)
        ]

    @override
    def delete(self, bucket: str, name: str) -> None:
        validate_bucket(bucket)
        validate_object_name(name)
        with self._errors(bucket, name):
            self.client.remove_object(bucket, name)

    @staticmethod
    def _info(
        bucket: str,
        name: str,
        size: int | None,
        etag: str | None,
        content_type: str | None,
        headers: Mapping[str, str] | None,
    ) -> ObjectInfo:
        meta = user_metadata(headers)
        return ObjectInfo(
            bucket,
            name,
            int(size or 0),
            clean_etag(etag),
            meta.get(SHA256_METADATA),
            content_type or "application/octet-stream",
            metadata=meta,
        )

    @contextmanager
    def _errors(self, bucket: str, name: str | None = None) -> Iterator[None]:
        """Turn client and transport errors into the port's errors, naming the object."""
        where = {"bucket": bucket} if name is None else {"bucket": bucket, "name": name}
        path = bucket if name is None else f"{bucket}/{name}"
        try:
            yield
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                raise BucketNotFoundError(
                    f"bucket {bucket!r} does not exist", details=where
                ) from exc
            if exc.code == "NoSuchKey":
                raise ObjectNotFoundError(
                    f"object {bucket}/{name} does not exist", details=where
                ) from exc
            raise StorageError(
                f"S3 error {exc.code} on {path}: {exc.message}",
                details={**where, "s3_code": exc.code},
            ) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(
                f"object store at {self.endpoint} failed on {path}: {exc}",
                details=where,
            ) from exc
