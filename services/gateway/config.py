"""Typed settings of the gateway, read from SYNAPSE_GATEWAY_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.services import SERVICES, built_services, env_prefix


def default_upstreams() -> dict[str, str]:
    """Return the local base URL of every built service except the gateway itself."""
    # Services still to come are left out: /health/services would report them down forever.
    return {spec.name: spec.default_url for spec in built_services() if spec.name != "gateway"}


class Settings(BaseSettings):
    """Configuration of the gateway."""

    model_config = SettingsConfigDict(env_prefix=env_prefix("gateway"), extra="ignore")

    # Service name -> base URL (JSON in the environment); only these services are routable.
    upstreams: dict[str, str] = Field(default_factory=default_upstreams)
    # Refuse /api/* calls that lack a valid X-API-Key header.
    require_auth: bool = False
    # Accepted API keys (a JSON list in the environment).
    api_keys: frozenset[str] = frozenset()
    # Seconds to wait for an upstream answer.
    timeout: float = Field(default=5.0, gt=0)
    # Attempts per idempotent upstream call; callers of the gateway do their own retrying.
    retry_attempts: int = Field(default=1, ge=1, le=5)
    # Consecutive upstream failures that open a service's circuit breaker.
    breaker_failure_threshold: int = Field(default=5, ge=1)
    # Seconds an open breaker waits before letting one probe through.
    breaker_reset_timeout: float = Field(default=30.0, gt=0)
    # Largest request body forwarded, in bytes.
    max_body_bytes: int = Field(default=1_048_576, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        unknown = sorted(set(self.upstreams) - set(SERVICES) | ({"gateway"} & set(self.upstreams)))
        if unknown:
            raise ValueError(f"not routable services: {', '.join(unknown)}")
        if self.require_auth and not any(key.strip() for key in self.api_keys):
            raise ValueError("require_auth needs at least one non-empty API key")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
