"""Typed settings of the monitoring service, read from SYNAPSE_MONITORING_* variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.monitoring.schemas import DriftWatch
from shared.services import env_prefix

# Upper bounds of the prediction latency histogram, in milliseconds (Prometheus `le`).
DEFAULT_LATENCY_BUCKETS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0)


class Settings(BaseSettings):
    """Configuration of the monitoring service."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("monitoring"), extra="ignore")

    # SQLAlchemy URL of metrics_db; a SQLite file under var/ keeps local runs self-contained.
    database_url: str = "sqlite+pysqlite:///var/metrics.sqlite3"
    # Create missing tables when the app starts (migrations own the schema in production).
    create_schema: bool = True
    # Consume the bus in a background thread while the app runs (tests drive the ingestor).
    consume: bool = True
    # Consumer group of the ingestor; replicas share it, so each event is ingested once.
    events_group: str = "monitoring"
    # Seconds between polls of the bus when the last poll found nothing.
    poll_interval: float = Field(default=1.0, gt=0, le=60)
    # Records read per poll.
    batch_size: int = Field(default=200, ge=1, le=5000)
    # Distinct values a label of /metrics keeps; later values are folded into "other".
    max_label_values: int = Field(default=20, ge=1, le=1000)
    # Latency histogram bucket bounds in milliseconds, ascending.
    latency_buckets: tuple[float, ...] = DEFAULT_LATENCY_BUCKETS
    # Base URL of the feature store whose drift reports drift checks read; empty: no checks.
    features_url: str = ""
    # Seconds between scheduled drift checks of the watches below; 0 turns the schedule off.
    drift_check_interval_s: float = Field(default=0, ge=0, le=86_400)
    # Watches it checks (JSON: [{feature_view, reference: {start, end}, current_seconds}]).
    drift_watches: list[DriftWatch] = Field(default_factory=list, max_length=100)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
