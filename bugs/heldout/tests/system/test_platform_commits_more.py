"""Held-out: a promotion whose commit is lost is neither visible nor announced."""

from __future__ import annotations

import pytest

from shared.backends import get_bus
from shared.events.schema import read_event
from tests.utils.platform import PLATFORM_DB

pytestmark = [PLATFORM_DB, pytest.mark.registry]

VERSIONS = "/api/registry/api/v1/registered-models/ranker/versions"


def drop_the_next_commit(monkeypatch, alias: str) -> None:
    from django.db import OperationalError, connections

    backend = type(connections[alias])
    real_commit = backend.commit
    pending = [alias]

    def commit(self):
        if pending and self.alias == pending[0]:
            pending.clear()
            raise OperationalError("connection reset by peer")
        return real_commit(self)

    monkeypatch.setattr(backend, "commit", commit)


def test_promotion_lost_at_commit_is_neither_announced_nor_searchable(platform, monkeypatch):
    body = {"artifact_uri": "file:///tmp/ranker.npz"}
    assert platform.gateway.post(VERSIONS, json=body).status_code == 201
    staged = platform.gateway.post(f"{VERSIONS}/1/transition", json={"stage": "Staging"})
    assert staged.status_code == 200
    watcher = get_bus().subscribe("models.versions", "test-lost-transition", "latest")
    watcher.poll()
    drop_the_next_commit(monkeypatch, "models_db")
    response = platform.gateway.post(f"{VERSIONS}/1/transition", json={"stage": "Production"})
    assert response.status_code >= 500
    assert platform.gateway.get(f"{VERSIONS}/1").json()["stage"] == "Staging"
    announced = []
    while batch := watcher.poll(max_records=100):
        announced.extend(read_event(event).type for event in batch)
    assert announced == []
    search = platform.gateway.get("/api/registry/api/v1/search/versions").json()
    assert [item["stage"] for item in search["items"]] == ["Staging"]
