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


def _pair(field: str, key: str, value: object, kind: str = "term") -> dict:
    inner = [{"term": {f"{field}.key": key}}, {kind: {f"{field}.value": value}}]
    return {"nested": {"path": field, "query": {"bool": {"filter": inner}}}}


NESTED_DOCS = {
    "a": {
        "run_id": "a",
        "params": [{"key": "lr", "value": "0.1"}, {"key": "layers", "value": "4"}],
    },
    "b": {
        "run_id": "b",
        "params": [{"key": "lr", "value": "4"}, {"key": "layers", "value": "0.1"}],
    },
    "c": {"run_id": "c", "metrics": [{"key": "acc", "value": 0.9, "step": 3}]},
}
NESTED_QUERIES = [
    (_pair("params", "lr", "0.1"), {"a"}),
    (_pair("params", "layers", "0.1"), {"b"}),  # the key and value of one pair, not of two
    (_pair("metrics", "acc", {"gte": 0.9}, "range"), {"c"}),
    (_pair("metrics", "acc", {"gt": 0.9}, "range"), set()),
    ({"bool": {"must_not": [_pair("params", "lr", "4")]}}, {"a", "c"}),
    ({"term": {"params.key": "lr"}}, set()),  # nested fields answer only nested queries
]


@pytest.mark.parametrize(("query", "expected"), NESTED_QUERIES)
def test_nested_queries_match_in_memory_as_on_the_server(es, index_prefix, query, expected):
    from shared.search.mappings import EXPERIMENTS_INDEX
    from shared.search.memory import InMemorySearchIndex

    name = index_prefix + "experiments"
    memory = InMemorySearchIndex()
    for index in (es, memory):
        index.create_index(name, EXPERIMENTS_INDEX.mappings, EXPERIMENTS_INDEX.settings)
        for doc_id, document in NESTED_DOCS.items():
            index.index(name, doc_id, document)
    found = {
        backend: set(index.search(name, query).ids)
        for backend, index in (("es", es), ("memory", memory))
    }
    assert found == {"es": expected, "memory": expected}
