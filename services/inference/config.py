"""Typed settings of the inference service, read from SYNAPSE_INFERENCE_* variables."""

from __future__ import annotations

import uuid
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.services import env_prefix


def replica_group() -> str:
    """Return a consumer group name of its own for one inference replica."""
    return f"inference-{uuid.uuid4().hex[:12]}"


class Settings(BaseSettings):
    """Every environment variable the inference service reads, with its default."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("inference"), extra="ignore")

    # Base URL of the model registry service (versions, stages, artifact URIs).
    registry_url: str = "http://localhost:8003"
    # Root directory of model artifacts; artifacts outside it are never loaded.
    artifact_root: Path = Path("var/artifacts")
    # How many loaded models stay in memory; the least recently used one is evicted.
    cache_max_models: int = Field(default=8, ge=1)
    # Registry health probes made at startup before giving up (the service then reports 503).
    readiness_attempts: int = Field(default=30, ge=1)
    # Seconds slept after the first failed probe; doubles after each further failure.
    readiness_backoff: float = Field(default=0.5, ge=0)
    # Upper bound of one sleep between readiness probes, in seconds.
    readiness_max_backoff: float = Field(default=5.0, ge=0)
    # Seconds a registry version record stays in the cache port (promotions invalidate it).
    registry_cache_ttl: float = Field(default=300.0, gt=0)
    # Seconds a "no such version" answer of the registry is remembered (registrations drop it).
    registry_miss_ttl: float = Field(default=30.0, gt=0)
    # Consumer group of this replica on models.versions: every replica needs one of its own
    # (each must see every promotion); keep it across restarts to resume where it stopped.
    events_group: str = Field(default_factory=replica_group)
    # Follow promotions in a background thread while serving (swap to each new Production
    # of a deployed model); off in tests, which call process_pending() themselves.
    follow_promotions: bool = False
    # Largest number of instances accepted in one predict request.
    max_batch_size: int = Field(default=1000, ge=1)
    # Micro-batching: concurrent predictions of one deployed version share one model call of
    # at most this many rows (a request of more rows runs alone).
    max_batch_rows: int = Field(default=64, ge=1)
    # Milliseconds the first request of a batch waits for companions (a full batch goes at
    # once); 0 turns batching off: every request calls the model alone.
    batch_wait_ms: float = Field(default=2.0, ge=0, le=1000)
    # Predictions one replica runs at once; further ones wait in a queue for a slot.
    max_in_flight: int = Field(default=16, ge=1)
    # Predictions that may wait for a slot; with the queue full too, the replica answers 429.
    max_queued: int = Field(default=64, ge=0)
    # Seconds a queued prediction waits for a slot before it is refused with 429.
    queue_timeout: float = Field(default=10.0, gt=0)
    # Whole seconds a refused caller is told to wait (the Retry-After header of a 429).
    busy_retry_after: int = Field(default=1, ge=1)
    # Base URL of the storage service that artifacts are fetched from; unset, inference reads
    # the object-storage port directly (single-process runs and tests).
    storage_url: str | None = None
    # Base URL of the feature store predictions by entity read online features from; unset,
    # only predictions that send their rows are served.
    features_url: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
