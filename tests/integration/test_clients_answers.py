"""Service clients take a Retry-After under a second as given, and the registry's 404 as none."""

from __future__ import annotations

import pytest

from shared.clients.registry import RegistryClient
from tests.utils.clients import ScriptedTransport, make_client, recorded_sleeps

pytestmark = pytest.mark.gateway


@pytest.mark.parametrize(("header", "pause"), [("0", 0.0), ("0.5", 0.5)])
def test_a_retry_after_under_a_second_is_the_pause_taken(header, pause):
    sleeps, sleeper = recorded_sleeps()
    transport = ScriptedTransport([(503, {"Retry-After": header})])
    assert make_client(transport=transport, sleeper=sleeper).get("/x").status_code == 200
    assert sleeps == [pause]


def test_a_model_the_registry_does_not_know_has_no_production_version():
    registry = RegistryClient(make_client(transport=ScriptedTransport([404])))
    assert registry.production_version("ghost") is None
