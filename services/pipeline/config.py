"""Typed settings of the pipeline service, read from SYNAPSE_PIPELINE_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.services import env_prefix


class Settings(BaseSettings):
    """Configuration of the pipeline service."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("pipeline"), extra="ignore")

    # SQLAlchemy URL of models_db; a SQLite file under var/ keeps local runs self-contained.
    database_url: str = "sqlite+pysqlite:///var/pipeline.sqlite3"
    # Create missing tables when the app starts (migrations own the schema in production).
    create_schema: bool = True
    # Celery broker connection URL (step tasks) and result backend.
    broker_url: str = "redis://localhost:6379/2"
    result_backend: str = "redis://localhost:6379/3"
    # Run step tasks inline in the calling process (tests and single-process demos).
    task_always_eager: bool = False
    # Consume dataset versions from the bus in a background thread while the app runs.
    consume: bool = True
    # Consumer group of the trigger; replicas share it, so each new version starts runs once.
    events_group: str = "pipeline"
    # Seconds between polls of the bus when the last poll found nothing.
    poll_interval: float = Field(default=1.0, gt=0, le=60)
    # Attempts of a step before it is dead-lettered, and the backoff between them (seconds).
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_base: float = Field(default=1.0, ge=0, le=60)
    backoff_max: float = Field(default=60.0, ge=0, le=3600)
    # Seconds a step's claim lives; a worker that dies mid-step is taken over after it.
    lease_seconds: float = Field(default=300.0, gt=0, le=86400)
    # Base URLs of the services the steps call.
    storage_url: str = "http://localhost:8012"
    features_url: str = "http://localhost:8006"
    training_url: str = "http://localhost:8004"
    registry_url: str = "http://localhost:8003"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
