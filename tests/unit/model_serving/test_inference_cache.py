"""The model cache: a bounded number of loaded models, the ones in use kept, every exit reported."""

from __future__ import annotations

import gc
import weakref

import pytest

from services.inference.main import ModelCache
from tests.utils.inference import make_artifact

pytestmark = pytest.mark.inference


def filled(max_models: int, *names: str, on_release=None) -> ModelCache:
    cache = ModelCache(max_models, on_release)
    for i, name in enumerate(names):
        cache.put(f"{name}/v1", make_artifact(seed=i))
    return cache


def test_cache_never_holds_more_than_max_models():
    cache = filled(2, "a", "b", "c", "d")
    assert len(cache) == 2


def test_a_full_cache_holds_the_models_loaded_last():
    cache = filled(2, "a", "b", "c")
    assert cache.keys() == ["b/v1", "c/v1"]


def test_a_model_just_used_stays_loaded_when_another_arrives():
    cache = filled(2, "a", "b")
    cache.get("a/v1")
    cache.put("c/v1", make_artifact(seed=9))
    assert "a/v1" in cache
    assert "b/v1" not in cache


def test_inspecting_a_cached_model_does_not_keep_it_loaded():
    cache = filled(2, "a", "b")
    cache.peek("a/v1")
    cache.put("c/v1", make_artifact(seed=9))
    assert cache.keys() == ["b/v1", "c/v1"]


def test_versions_of_one_model_are_separate_entries():
    cache = ModelCache(3)
    v1, v2 = make_artifact(seed=1), make_artifact(seed=2)
    cache.put("m/v1", v1)
    cache.put("m/v2", v2)
    assert cache.get("m/v1") is v1
    assert cache.get("m/v2") is v2


def test_unload_removes_the_model_and_reports_it():
    cache = filled(3, "a", "b")
    assert cache.unload("a/v1") is True
    assert cache.keys() == ["b/v1"]
    assert cache.get("a/v1") is None


def test_unload_of_a_model_not_loaded_returns_false():
    cache = filled(3, "a")
    assert cache.unload("zzz/v1") is False
    assert len(cache) == 1


def test_evicted_model_and_its_arrays_are_freed():
    cache = ModelCache(1)
    model = make_artifact(seed=1)
    model_ref, weights_ref = weakref.ref(model), weakref.ref(model.weights["W"])
    cache.put("a/v1", model)
    del model
    cache.put("b/v1", make_artifact(seed=2))
    gc.collect(0)
    assert model_ref() is None
    assert weights_ref() is None


def test_unloaded_model_is_freed():
    cache = ModelCache(2)
    model = make_artifact(seed=1)
    ref = weakref.ref(model)
    cache.put("a/v1", model)
    del model
    cache.unload("a/v1")
    gc.collect(0)
    assert ref() is None


def test_replacing_an_entry_frees_the_previous_model():
    cache = ModelCache(2)
    old = make_artifact(seed=1)
    ref = weakref.ref(old)
    cache.put("a/v1", old)
    del old
    cache.put("a/v1", make_artifact(seed=2))
    gc.collect(0)
    assert ref() is None
    assert len(cache) == 1


def test_every_model_leaving_the_cache_is_reported_with_its_reason():
    released = []
    cache = filled(2, "a", "b", on_release=lambda key, reason: released.append((key, reason)))
    cache.put("c/v1", make_artifact(seed=5))
    cache.unload("b/v1")
    assert released == [("a/v1", "evicted"), ("b/v1", "unloaded")]


def test_eviction_counter_ignores_explicit_unloads():
    cache = filled(2, "a", "b", "c")
    cache.unload("c/v1")
    assert cache.evictions == 1


def test_cache_refuses_a_zero_bound():
    with pytest.raises(ValueError, match="at least 1"):
        ModelCache(0)
