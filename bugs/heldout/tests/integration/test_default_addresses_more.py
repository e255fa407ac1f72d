"""Held-out: default peer addresses of the training service against the service manifest."""

from __future__ import annotations

import pytest

from services.training.config import Settings
from shared.services import SERVICES

pytestmark = pytest.mark.training


def test_training_without_configuration_registers_at_the_registrys_manifest_address(monkeypatch):
    monkeypatch.delenv("SYNAPSE_TRAINING_REGISTRY_URL", raising=False)
    assert Settings().registry_url.rstrip("/") == SERVICES["registry"].default_url.rstrip("/")
