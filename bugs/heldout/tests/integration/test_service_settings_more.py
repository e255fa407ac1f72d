"""Held-out: service settings built from their defaults and from other environment variables."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from services.gateway import config as gateway_config
from services.inference import config as inference_config
from services.models import config as models_config
from services.training import config as training_config


@pytest.mark.training
def test_training_defaults_name_a_redis_broker_and_backend():
    settings = training_config.Settings()
    assert urlsplit(settings.broker_url).scheme == "redis"
    assert settings.broker_url.endswith("/0")


@pytest.mark.gateway
def test_gateway_defaults_allow_one_attempt_at_least(monkeypatch):
    monkeypatch.delenv("SYNAPSE_GATEWAY_RETRY_ATTEMPTS", raising=False)
    settings = gateway_config.Settings(upstreams={"models": "http://m:1"})
    assert 1 <= settings.retry_attempts <= 5


@pytest.mark.inference
def test_inference_defaults_cache_registry_answers_for_a_while(monkeypatch):
    monkeypatch.delenv("SYNAPSE_INFERENCE_REGISTRY_CACHE_TTL", raising=False)
    assert inference_config.Settings(registry_url="http://r:9").registry_cache_ttl > 0


@pytest.mark.models
def test_models_settings_read_the_schema_switch_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYNAPSE_MODELS_CREATE_SCHEMA", "false")
    monkeypatch.setenv("SYNAPSE_MODELS_DATABASE_URL", "sqlite+pysqlite:////tmp/other-models.db")
    settings = models_config.Settings()
    assert settings.create_schema is False
    assert settings.database_url == "sqlite+pysqlite:////tmp/other-models.db"
