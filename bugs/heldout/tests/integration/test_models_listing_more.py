"""Held-out: list totals and default schema creation with other page sizes and filters."""

from __future__ import annotations

import pytest

from services.models import config as models_config
from tests.utils.models import MODELS_URL, make_models_env

pytestmark = pytest.mark.models


def test_total_counts_every_filtered_match_on_a_middle_page():
    env = make_models_env()
    try:
        for i in range(7):
            env.create(name=f"ranker-{i}", owner="ops" if i % 2 else "ml")
        body = env.client.get(MODELS_URL, params={"owner": "ml", "limit": 1, "offset": 2}).json()
        assert (len(body["items"]), body["total"]) == (1, 4)
        body = env.client.get(MODELS_URL, params={"limit": 3, "offset": 3}).json()
        assert (len(body["items"]), body["total"]) == (3, 7)
        body = env.client.get(MODELS_URL, params={"owner": "ml", "limit": 2, "offset": 4}).json()
        assert (body["items"], body["total"]) == ([], 4)
    finally:
        env.client.close()


def test_models_settings_create_their_schema_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("SYNAPSE_MODELS_CREATE_SCHEMA", raising=False)
    settings = models_config.Settings(database_url="sqlite+pysqlite:///:memory:")
    assert settings.create_schema is True
