"""Held-out: model-cache recency with a larger cache and a longer access pattern."""

from __future__ import annotations

import pytest

from services.inference.main import ModelCache
from tests.utils.inference import make_artifact

pytestmark = pytest.mark.inference


def test_cache_of_three_evicts_in_least_recently_used_order():
    released: list[str] = []
    cache = ModelCache(3, lambda key, _model: released.append(key))
    for i, name in enumerate("pqr"):
        cache.put(f"{name}/v2", make_artifact(seed=i))
    cache.get("p/v2")
    cache.put("s/v2", make_artifact(seed=5))
    cache.put("t/v2", make_artifact(seed=6))
    assert released == ["q/v2", "r/v2"]
    assert sorted(cache.keys()) == ["p/v2", "s/v2", "t/v2"]
