"""Index bootstrap: platform indices get explicit strict mappings; drifted ones are reported."""

from __future__ import annotations

import io

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError

from shared.bootstrap.runner import main
from shared.errors import ValidationError
from shared.infra_settings import InfraSettings
from shared.search.bootstrap import IndexBootstrapError, ensure_indices
from shared.search.elasticsearch import ElasticsearchSearchIndex
from shared.search.mappings import MODELS_INDEX, PLATFORM_INDICES
from shared.search.memory import InMemorySearchIndex
from tests.utils.infra import Recorder

pytestmark = pytest.mark.registry


def es_error(kind: str, status: int = 400) -> BadRequestError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.01, NodeConfig("http", "es", 9200))
    return BadRequestError(kind, meta, {"error": {"type": kind, "root_cause": []}})


def test_bootstrap_creates_each_index_with_its_explicit_mapping():
    search = InMemorySearchIndex()
    assert ensure_indices(search) == list(PLATFORM_INDICES)
    for name, definition in PLATFORM_INDICES.items():
        assert search.get_mapping(name) == definition.mappings


def test_bootstrap_is_idempotent():
    search = InMemorySearchIndex()
    ensure_indices(search)
    assert ensure_indices(search) == []


def test_existing_index_with_another_mapping_is_reported():
    search = InMemorySearchIndex()
    search.create_index("models", {"properties": {"name": {"type": "text"}}})
    with pytest.raises(IndexBootstrapError) as info:
        ensure_indices(search)
    problems = info.value.details["problems"]
    assert "field 'name' is 'text', not 'keyword'" in problems
    assert any("dynamic" in p for p in problems)


def test_search_command_reports_a_drifted_index_and_exits_non_zero():
    search = InMemorySearchIndex()
    search.create_index("experiments")
    out = io.StringIO()
    code = main(
        ["search"], settings=InfraSettings(), builders={"search": lambda s: search}, out=out
    )
    assert code == 1
    assert out.getvalue().startswith("search: FAILED: index 'experiments' exists with another")


def test_elasticsearch_adapter_sends_mappings_and_settings_on_create():
    client = Recorder()
    ElasticsearchSearchIndex(client).create_index(
        "models", MODELS_INDEX.mappings, MODELS_INDEX.settings
    )
    [(_, kwargs)] = client.called("indices.create")
    assert kwargs == {
        "index": "models",
        "mappings": MODELS_INDEX.mappings,
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    }


def test_elasticsearch_adapter_treats_an_existing_index_as_not_created():
    client = Recorder({"indices.create": es_error("resource_already_exists_exception")})
    assert ElasticsearchSearchIndex(client).create_index("models", {}) is False


def test_elasticsearch_adapter_reports_a_strict_mapping_rejection_as_invalid():
    client = Recorder({"index": es_error("strict_dynamic_mapping_exception")})
    with pytest.raises(ValidationError) as info:
        ElasticsearchSearchIndex(client).index("models", "1", {"stage": "x"})
    assert info.value.details["type"] == "strict_dynamic_mapping_exception"


def test_elasticsearch_adapter_translates_sort_fields():
    client = Recorder({"search": {"hits": {"total": {"value": 0}, "hits": []}}})
    ElasticsearchSearchIndex(client).search("models", sort=["-created_at", "name"])
    [(_, kwargs)] = client.called("search")
    assert kwargs["sort"] == [{"created_at": {"order": "desc"}}, {"name": {"order": "asc"}}]
    assert kwargs["query"] == {"match_all": {}}


def test_a_timed_out_search_request_is_not_sent_again_behind_the_callers_back():
    # Each caller bounds its own wait; a transport retry on timeout would double it.
    config = ElasticsearchSearchIndex(url="http://search:9200").client_config()
    assert config["hosts"] == ["http://search:9200"]
    assert config["retry_on_timeout"] is False
    assert config["request_timeout"] > 0
