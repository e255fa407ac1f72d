"""Typed client of the storage service, and the object-store port served through it.

``StorageClient`` speaks the service's REST API (objects, upload sessions, dataset versions,
signed links). ``StorageServiceStore`` is the ``ObjectStore`` port on top of it, so code that
writes artifacts and checkpoints through the port (training) or reads them (inference) goes
through the storage service without knowing it: platform buckets map to namespaces, objects
larger than one part go up as an upload session, and the service answers stay platform errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
from typing_extensions import override

from shared.clients.base import ServiceClient, StaticDiscovery, error_for_response
from shared.errors import NotFoundError, SynapseError
from shared.storage.base import (
    DEFAULT_PART_SIZE,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    StorageError,
    as_stream,
)
from shared.storage.bootstrap import ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET, DATASETS_BUCKET

SHA256_HEADER = "X-Content-SHA256"
# Client-side part size of the uploads the port makes (the service's limit is larger).
UPLOAD_PART_SIZE = 1024 * 1024
BUCKET_NAMESPACES = {
    ARTIFACTS_BUCKET: "artifacts",
    DATASETS_BUCKET: "datasets",
    CHECKPOINTS_BUCKET: "checkpoints",
}


def object_path(namespace: str, key: str) -> str:
    """Return the API path of one object (the key's segments percent-encoded)."""
    return f"/api/v1/objects/{quote(namespace, safe='')}/{quote(key, safe='/')}"


class StorageClient:
    """The storage service's REST API over a ``ServiceClient`` (retries, breaker, errors)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> StorageClient:
        """Return a client of the storage service at ``url`` with the default retry policy."""
        return cls(ServiceClient("storage", discovery=StaticDiscovery({"storage": url})))

    def close(self) -> None:
        """Close the underlying connections."""
        self.client.close()

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise error_for_response("storage", response)
        return response

    def put(
        self,
        namespace: str,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        sha256: str | None = None,
    ) -> dict[str, Any]:
        """Upload an object in one request; the service checks ``sha256`` when given."""
        headers = {"Content-Type": content_type}
        if sha256 is not None:
            headers[SHA256_HEADER] = sha256
        response = self.client.put(object_path(namespace, key), content=data, headers=headers)
        return dict(self._checked(response).json())

    def get(self, namespace: str, key: str, *, byte_range: str | None = None) -> bytes:
        """Download an object, or one ``bytes=first-last`` range of it."""
        headers = {"Range": byte_range} if byte_range else None
        return self._checked(self.client.get(object_path(namespace, key), headers=headers)).content

    def stat(self, namespace: str, key: str) -> dict[str, str]:
        """Return an object's headers (size, type, SHA-256)."""
        response = self._checked(self.client.request("HEAD", object_path(namespace, key)))
        return {
            "size": response.headers.get("content-length", "0"),
            "content_type": response.headers.get("content-type", ""),
            "sha256": response.headers.get(SHA256_HEADER.lower(), ""),
        }

    def delete(self, namespace: str, key: str) -> None:
        """Delete an object (its bytes go at the next garbage collection)."""
        self._checked(self.client.delete(object_path(namespace, key)))

    def list_objects(self, namespace: str, prefix: str = "") -> list[dict[str, Any]]:
        """Return the live objects of a namespace under ``prefix``."""
        path = f"/api/v1/objects/{quote(namespace, safe='')}"
        body = self.client.get_json(path, params={"prefix": prefix})
        return list(body["items"])

    def upload(
        self,
        namespace: str,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        part_size: int = UPLOAD_PART_SIZE,
    ) -> dict[str, Any]:
        """Upload an object through an upload session, one checked part at a time."""
        session = self.client.post_json(
            "/api/v1/uploads",
            json={"namespace": namespace, "key": key, "content_type": content_type},
        )
        parts = [data[i : i + part_size] for i in range(0, len(data), part_size)] or [b""]
        for number, part in enumerate(parts, start=1):
            self.put_part(session["id"], number, part)
        return self.complete(session["id"], len(parts), hashlib.sha256(data).hexdigest())

    def put_part(self, session_id: str, number: int, data: bytes) -> dict[str, Any]:
        """Upload one part of a session with its SHA-256."""
        headers = {
            "Content-Type": "application/octet-stream",
            SHA256_HEADER: hashlib.sha256(data).hexdigest(),
        }
        path = f"/api/v1/uploads/{session_id}/parts/{number}"
        return dict(self._checked(self.client.put(path, content=data, headers=headers)).json())

    def complete(self, session_id: str, parts: int, sha256: str) -> dict[str, Any]:
        """Finish a session; return the stored object."""
        path = f"/api/v1/uploads/{session_id}/complete"
        body = self.client.post_json(path, json={"parts": parts, "sha256": sha256})
        return dict(body["object"])

    def commit_dataset(self, dataset: str, keys: list[str]) -> dict[str, Any]:
        """Commit objects of the datasets namespace as one dataset version."""
        path = f"/api/v1/datasets/{quote(dataset, safe='')}/versions"
        return dict(self.client.post_json(path, json={"keys": keys}))

    def dataset_version(self, dataset: str, version: str) -> dict[str, Any]:
        """Return a committed dataset version and its manifest; an unknown one is NotFoundError."""
        path = f"/api/v1/datasets/{quote(dataset, safe='')}/versions/{quote(version, safe='')}"
        return dict(self.client.get_json(path))

    def presign(self, namespace: str, key: str, expires_in: int = 900) -> str:
        """Return the path and query of a signed download URL."""
        body = {"namespace": namespace, "key": key, "expires_in": expires_in}
        return str(self.client.post_json("/api/v1/presign", json=body)["url"])


class StorageServiceStore(ObjectStore):
    """The object-store port served by the storage service (platform buckets only)."""

    def __init__(self, client: StorageClient, *, part_size: int = UPLOAD_PART_SIZE) -> None:
        self.client = client
        self.part_size = part_size

    @staticmethod
    def namespace(bucket: str) -> str:
        """Return the namespace of a platform bucket."""
        try:
            return BUCKET_NAMESPACES[bucket]
        except KeyError:
            raise StorageError(f"bucket {bucket!r} is not served by the storage service") from None

    @override
    def bucket_exists(self, bucket: str) -> bool:
        return bucket in BUCKET_NAMESPACES

    @override
    def ensure_bucket(self, bucket: str) -> bool:
        self.namespace(bucket)
        return False

    @override
    def remove_bucket(self, bucket: str) -> None:
        raise StorageError("platform buckets are not removed through the storage service")

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
        namespace = self.namespace(bucket)
        body = as_stream(data).read()
        with _as_storage_errors(bucket, name):
            if len(body) > self.part_size:
                stored = self.client.upload(
                    namespace, name, body, content_type=content_type, part_size=self.part_size
                )
            else:
                sha256 = hashlib.sha256(body).hexdigest()
                stored = self.client.put(
                    namespace, name, body, content_type=content_type, sha256=sha256
                )
        return self._info(bucket, stored)

    @override
    def stat(self, bucket: str, name: str) -> ObjectInfo:
        with _as_storage_errors(bucket, name):
            head = self.client.stat(self.namespace(bucket), name)
        return ObjectInfo(
            bucket, name, int(head["size"]), head["sha256"], head["sha256"], head["content_type"]
        )

    @override
    def get(self, bucket: str, name: str, *, verify: bool = True) -> bytes:
        with _as_storage_errors(bucket, name):
            return self.client.get(self.namespace(bucket), name)

    @override
    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        with _as_storage_errors(bucket, prefix):
            items = self.client.list_objects(self.namespace(bucket), prefix)
        return [self._info(bucket, item) for item in items]

    @override
    def delete(self, bucket: str, name: str) -> None:
        with _as_storage_errors(bucket, name):
            try:
                self.client.delete(self.namespace(bucket), name)
            except ObjectNotFoundError:
                return

    @staticmethod
    def _info(bucket: str, stored: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            bucket,
            stored["key"],
            int(stored["size"]),
            stored["sha256"],
            stored["sha256"],
            stored["content_type"],
        )


@contextmanager
def _as_storage_errors(bucket: str, name: str) -> Iterator[None]:
    """Turn a missing object into ObjectNotFoundError and a failing service into StorageError."""
    details = {"bucket": bucket, "name": name}
    try:
        yield
    except ObjectNotFoundError:
        raise
    except NotFoundError as exc:
        raise ObjectNotFoundError(exc.message, details=details) from exc
    except StorageError:
        raise
    except SynapseError as exc:
        if exc.status_code >= 500:
            raise StorageError(exc.message, details=details) from exc
        raise


def service_store(url: str) -> StorageServiceStore:
    """Return the object-store port served by the storage service at ``url``."""
    return StorageServiceStore(StorageClient.from_url(url))


def service_store_factory(url: str) -> Callable[[], ObjectStore]:
    """Return a getter of one lazily built port on the storage service at ``url``."""
    built: list[StorageServiceStore] = []

    def get() -> ObjectStore:
        if not built:
            built.append(service_store(url))
        return built[0]

    return get
