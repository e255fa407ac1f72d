"""Typed settings of the training service (environment prefix ``SYNAPSE_TRAINING_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.services import env_prefix


class Settings(BaseSettings):
    """Every environment variable the training service reads, with its default."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("training"), extra="ignore")

    # SQLAlchemy URL of the jobs table (models_db in production).
    database_url: str = "sqlite:///var/training.db"
    # Celery broker connection URL.
    broker_url: str = "redis://localhost:6379/0"
    # Celery result backend (task states); jobs themselves live in the database.
    result_backend: str = "redis://localhost:6379/1"
    # Run tasks inline in the calling process (tests and single-process demos).
    task_always_eager: bool = False
    # Root directory of checkpoints and final artifacts: <root>/<model>/<job>/.
    artifact_root: Path = Path("var/artifacts")
    # Base URL of the model registry service.
    registry_url: str = "http://localhost:8003"
    # Base URL of the experiments service jobs record their runs in; empty: not recorded.
    experiments_url: str = ""
    # Base URL of the feature store jobs pull training sets from; empty: such jobs refused.
    features_url: str = ""
    # Seconds a model lock lives before it expires if its holder dies.
    lock_ttl: float = 900.0
    # Seconds a job waits for the model lock before it fails.
    lock_timeout: float = 60.0
    # Base URL of the storage service that keeps artifacts and checkpoints; unset, training
    # writes through the object-storage port directly (single-process runs and tests).
    storage_url: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings read from the environment."""
    return Settings()
