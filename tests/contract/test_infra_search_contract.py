"""Search-index contract on the in-memory adapter, plus its query validation."""

from __future__ import annotations

import pytest

from shared.errors import ValidationError
from shared.search.memory import InMemorySearchIndex
from tests.utils.infra_contracts import SearchIndexContract

pytestmark = pytest.mark.registry


class TestInMemorySearchIndex(SearchIndexContract):
    @pytest.fixture
    def search(self):
        return InMemorySearchIndex()

    @pytest.fixture
    def prefix(self):
        return ""


@pytest.fixture
def search():
    index = InMemorySearchIndex()
    index.create_index("runs", {"properties": {"name": {"type": "keyword"}}})
    return index


@pytest.mark.parametrize(
    "query", [{"wildcard": {"name": "a*"}}, {"term": {"name": "a"}, "match": {}}, "name:a"]
)
def test_unsupported_queries_are_refused(search, query):
    with pytest.raises(ValidationError):
        search.search("runs", query)


def test_sorting_on_a_text_field_is_refused():
    index = InMemorySearchIndex()
    index.create_index("notes", {"properties": {"body": {"type": "text"}}})
    index.index("notes", "1", {"body": "hello"})
    with pytest.raises(ValidationError):
        index.search("notes", sort=["body"])


def test_page_size_bounds_the_hits_but_not_the_total(search):
    for n in range(5):
        search.index("runs", str(n), {"name": f"run-{n}"})
    found = search.search("runs", size=2, sort=["-name"])
    assert (found.total, found.ids) == (5, ["4", "3"])
