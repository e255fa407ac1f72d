"""Registry lookups through the cache: records and unknown versions are asked for once."""

from __future__ import annotations

import pytest

from services.inference.registry_cache import CachedRegistry
from shared.cache.memory import InMemoryCache
from shared.errors import NotFoundError
from tests.utils.inference import FakeRegistry

pytestmark = pytest.mark.inference

VERSION_PATH = "/api/v1/registered-models/churn/versions/2"


def test_unknown_version_is_asked_once_until_it_is_registered():
    fake = FakeRegistry()
    registry = CachedRegistry(fake.client(), InMemoryCache())
    for _ in range(3):
        with pytest.raises(NotFoundError):
            registry.get_version("churn", 2)
    fake.add("churn", 2, "churn/v2/model.npz")
    registry.forget_missing("churn", 2)
    assert registry.get_version("churn", 2)["artifact_uri"] == "churn/v2/model.npz"
    assert fake.requests.count(VERSION_PATH) == 2
