"""Typed settings of the storage service, read from SYNAPSE_STORAGE_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.services import env_prefix

MIB = 1024 * 1024
# Media types an object may be uploaded as: model artifacts, checkpoints and dataset files.
DEFAULT_CONTENT_TYPES = (
    "application/octet-stream",
    "application/json",
    "application/x-ndjson",
    "application/zip",
    "application/vnd.apache.parquet",
    "text/csv",
    "text/plain",
)


class Settings(BaseSettings):
    """Configuration of the storage service; sizes are in bytes, durations in seconds."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("storage"), extra="ignore")

    # SQLAlchemy URL of models_db (object rows, upload sessions, dataset versions).
    database_url: str = "sqlite+pysqlite:///var/storage.sqlite3"
    # Create missing tables when the app starts (migrations own the schema in production).
    create_schema: bool = True
    # Largest object a single PUT may upload; bigger objects go through an upload session.
    max_object_size: int = Field(default=64 * MIB, gt=0)
    # Largest part of an upload session, and the largest object a session may assemble.
    max_part_size: int = Field(default=16 * MIB, gt=0)
    max_upload_size: int = Field(default=1024 * MIB, gt=0)
    max_parts: int = Field(default=1000, gt=0, le=10_000)
    content_types: tuple[str, ...] = DEFAULT_CONTENT_TYPES
    # Secret of the signed download URLs; set it per deployment.
    presign_secret: str = Field(default="synapse-dev-presign-secret", min_length=16)
    presign_max_expiry: int = Field(default=7 * 24 * 3600, gt=0)
    # How long an unreferenced object is kept before garbage collection may delete it.
    gc_grace_seconds: int = Field(default=3600, ge=0)
    # How long a write waits while another write of the same key finishes, before a 503.
    write_lock_wait_seconds: float = Field(default=30.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
