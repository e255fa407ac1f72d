"""Search-index contract and index bootstrap on the real Elasticsearch-compatible server."""

from __future__ import annotations

import pytest

from infra.tests.live.support import unique
from shared.backends import create
from shared.search.bootstrap import IndexBootstrapError, ensure_indices
from shared.search.mappings import PLATFORM_INDICES
from tests.utils.infra_contracts import SearchIndexContract


@pytest.fixture(scope="module")
def es(infra_settings):
    return create("search", "elasticsearch", infra_settings)


@pytest.fixture
def index_prefix(es):
    prefix = unique("t") + "-"
    yield prefix
    for name in (*PLATFORM_INDICES, "scratch", "drifted"):
        es.delete_index(prefix + name)


class TestElasticsearchSearchIndex(SearchIndexContract):
    @pytest.fixture
    def search(self, es):
        return es

    @pytest.fixture
    def prefix(self, index_prefix):
        return index_prefix


def test_index_bootstrap_applies_explicit_mappings_once(es, index_prefix):
    created = ensure_indices(es, prefix=index_prefix)
    assert created == [index_prefix + name for name in PLATFORM_INDICES]
    assert ensure_indices(es, prefix=index_prefix) == []
    for name, definition in PLATFORM_INDICES.items():
        mapping = es.get_mapping(index_prefix + name)
        assert mapping["dynamic"] == "strict"
        assert mapping["properties"] == definition.mappings["properties"]


def test_index_bootstrap_reports_an_index_created_with_dynamic_mapping(es, index_prefix):
    es.create_index(index_prefix + "models")
    es.index(index_prefix + "models", "1", {"name": "churn-model"})
    with pytest.raises(IndexBootstrapError, match="field 'name' is 'text', not 'keyword'"):
        ensure_indices(es, prefix=index_prefix)
