"""Typed settings of the models service, read from SYNAPSE_MODELS_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.services import env_prefix


class Settings(BaseSettings):
    """Configuration of the models service."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("models"), extra="ignore")

    # SQLAlchemy URL of models_db; a SQLite file under var/ keeps local runs self-contained.
    database_url: str = "sqlite+pysqlite:///var/models.sqlite3"
    # Create missing tables when the app starts (migrations own the schema in production).
    create_schema: bool = True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
