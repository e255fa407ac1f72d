"""Held-out: registry answers to other malformed version fields."""

from __future__ import annotations

import pytest

from services.registry.models import ModelVersion
from tests.utils.registry import REGISTRY_DB, version_payload, versions_url

pytestmark = [pytest.mark.registry, REGISTRY_DB]


def test_metric_given_as_a_word_is_a_422_problem_and_registers_nothing(registry_client):
    payload = version_payload(metrics={"auc": "high"}, run_id="run-ltv-3")
    response = registry_client.post(versions_url("ltv"), json=payload)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "validation_error"
    assert ModelVersion.objects.count() == 0
