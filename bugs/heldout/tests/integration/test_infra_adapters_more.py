"""Held-out: discovery registrations, Redis URLs and bucket bootstrap on other inputs."""

from __future__ import annotations

import pytest

from shared.cache.redis import redis_client_options
from shared.clients.consul import InMemoryServiceRegistry, ServiceRegistration
from shared.errors import ServiceUnavailableError
from shared.storage.bootstrap import BucketBootstrapError, ensure_buckets
from shared.storage.memory import InMemoryObjectStore

pytestmark = pytest.mark.training


def test_registration_of_another_service_polls_its_health_route():
    registration = ServiceRegistration("models", "10.1.2.3", 8123, tags=("blue",))
    assert registration.health_url == "http://10.1.2.3:8123/health"
    assert registration.payload()["Check"]["http"] == "http://10.1.2.3:8123/health"


def test_registrations_accept_minute_durations_anywhere():
    registration = ServiceRegistration(
        "gateway", "gw-1", 8000, interval="1m", timeout="5s", deregister_after="15m"
    )
    assert registration.check()["DeregisterCriticalServiceAfter"] == "15m"
    assert ServiceRegistration("gateway", "gw-2", 8000).deregister_after == "1m"


def test_three_replicas_on_one_host_are_three_instances():
    registry = InMemoryServiceRegistry()
    for port in (9001, 9002, 9003):
        registry.register(ServiceRegistration("inference", "node-7", port))
    ports = sorted(i.port for i in registry.healthy_instances("inference"))
    assert ports == [9001, 9002, 9003]


def test_redis_url_path_picks_high_database_indexes():
    for url, db in [("redis://r1:7000/11", 11), ("rediss://u:p@r2/15", 15), ("redis://r3/0", 0)]:
        assert redis_client_options(url)["db"] == db


class _RefusesLast(InMemoryObjectStore):
    def ensure_bucket(self, bucket: str) -> bool:
        if bucket == "synapse-checkpoints":
            raise ServiceUnavailableError("QuotaExceeded")
        return super().ensure_bucket(bucket)


def test_refusal_of_the_last_platform_bucket_stops_the_bootstrap():
    with pytest.raises(BucketBootstrapError) as info:
        ensure_buckets(_RefusesLast())
    assert info.value.details["bucket"] == "synapse-checkpoints"


def test_bucket_names_take_hyphens_and_refuse_underscores_and_capitals():
    from shared.errors import ValidationError
    from shared.storage.base import validate_bucket

    for name in ("team-models-eu", "a-1", "logs.2024-06"):
        assert validate_bucket(name) == name
    for name in ("team_models", "Team-models", "a:b-c", "ab/cd"):
        with pytest.raises(ValidationError):
            validate_bucket(name)
