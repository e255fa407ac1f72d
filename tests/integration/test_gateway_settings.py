"""Gateway settings: environment variables, the discovery map and what may be routed."""

from __future__ import annotations

import pytest

from services.gateway.config import Settings
from services.gateway.main import routable_services
from shared.services import SERVICES

pytestmark = pytest.mark.gateway


def test_upstreams_and_keys_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYNAPSE_GATEWAY_UPSTREAMS", '{"models": "http://models.internal:8002"}')
    monkeypatch.setenv("SYNAPSE_GATEWAY_REQUIRE_AUTH", "true")
    monkeypatch.setenv("SYNAPSE_GATEWAY_API_KEYS", '["alpha", "beta"]')
    settings = Settings()
    assert settings.upstreams == {"models": "http://models.internal:8002"}
    assert settings.require_auth is True
    assert settings.api_keys == {"alpha", "beta"}


def test_default_upstreams_cover_every_built_service_but_the_gateway(monkeypatch):
    monkeypatch.delenv("SYNAPSE_GATEWAY_UPSTREAMS", raising=False)
    upstreams = Settings().upstreams
    built = {name for name, spec in SERVICES.items() if spec.built}
    assert set(upstreams) == built - {"gateway"}
    assert {"models", "registry", "training", "inference"} <= set(upstreams)
    assert upstreams["models"] == "http://localhost:8002"
    assert upstreams["inference"] == "http://localhost:8005"


def test_routable_services_follow_the_service_table_order():
    settings = Settings(upstreams={"storage": "http://s", "models": "http://m", "auth": "http://a"})
    assert list(routable_services(settings)) == ["auth", "models", "storage"]


@pytest.mark.parametrize("name", ["gateway", "billing"])
def test_unknown_or_self_upstreams_are_refused(name):
    with pytest.raises(ValueError, match=name):
        Settings(upstreams={name: "http://somewhere"})


def test_a_breaker_may_reset_within_a_second():
    assert Settings(breaker_reset_timeout=0.5).breaker_reset_timeout == 0.5
    with pytest.raises(ValueError, match="breaker_reset_timeout"):
        Settings(breaker_reset_timeout=0)


def test_a_breaker_may_open_on_the_first_failure():
    assert Settings(breaker_failure_threshold=1).breaker_failure_threshold == 1
    with pytest.raises(ValueError, match="breaker_failure_threshold"):
        Settings(breaker_failure_threshold=0)
