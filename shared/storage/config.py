"""The table of object-store backends and the factory that builds one from settings."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from shared.errors import ValidationError
from shared.infra_settings import InfraSettings, get_infra_settings
from shared.storage.base import ObjectStore

# Configured backend name -> "module:class" of the adapter, imported only when chosen.
STORE_BACKENDS: dict[str, str] = {
    "memory": "shared.storage.memory:InMemoryObjectStore",
    "minio": "shared.storage.minio:MinioObjectStore",
}


def minio_options(settings: InfraSettings) -> dict[str, Any]:
    """Return the MinioObjectStore arguments taken from the infrastructure settings."""
    return {
        "endpoint": settings.s3_endpoint,
        "access_key": settings.s3_access_key,
        "secret_key": settings.s3_secret_key,
        "secure": settings.s3_secure,
        "region": settings.s3_region,
    }


def create_object_store(kind: str = "minio", settings: InfraSettings | None = None) -> ObjectStore:
    """Build the object store configured by its short name ("memory" or "minio")."""
    try:
        module_name, attr = STORE_BACKENDS[kind].split(":")
    except KeyError:
        raise ValidationError(
            f"unknown object-store backend {kind!r}", details={"choices": sorted(STORE_BACKENDS)}
        ) from None
    store_cls: Callable[..., ObjectStore] = getattr(importlib.import_module(module_name), attr)
    if kind == "memory":
        return store_cls()
    return store_cls(**minio_options(settings or get_infra_settings()))
