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


def dated():
    index = InMemorySearchIndex()
    mapping = {"properties": {"name": {"type": "keyword"}, "at": {"type": "date"}}}
    index.create_index("events", mapping)
    for n, at in enumerate(
        ["2024-03-10T08:00:00Z", "2024-03-10T10:00:00Z", "2024-03-10T12:00:00Z"]
    ):
        index.index("events", str(n), {"name": f"e{n}", "at": at})
    return index


def test_a_search_without_a_size_answers_ten_hits():
    index = InMemorySearchIndex()
    index.create_index("runs", {"properties": {"name": {"type": "keyword"}}})
    for n in range(11):
        index.index("runs", f"{n:02d}", {"name": f"run-{n:02d}"})
    found = index.search("runs", sort=["name"])
    assert (found.total, len(found.ids)) == (11, 10)


def test_size_zero_counts_without_hits(search):
    for n in range(3):
        search.index("runs", str(n), {"name": f"run-{n}"})
    found = search.search("runs", size=0)
    assert (found.total, found.ids) == (3, [])


def test_date_ranges_include_their_bounds_and_read_offsets():
    index = dated()
    # 12:00+02:00 is 10:00Z: the middle event is on the bound and included.
    query = {"range": {"at": {"gte": "2024-03-10T08:00:00Z", "lte": "2024-03-10T12:00:00+02:00"}}}
    assert sorted(index.search("events", query).ids) == ["0", "1"]
    naive = {"range": {"at": {"lte": "2024-03-10T08:00:00"}}}  # no offset: UTC
    assert index.search("events", naive).ids == ["0"]


def test_a_term_on_an_object_field_itself_matches_nothing():
    index = InMemorySearchIndex()
    mapping = {"properties": {"meta": {"properties": {"owner": {"type": "keyword"}}}}}
    index.create_index("docs", mapping)
    index.index("docs", "1", {"meta": {"owner": "ana"}})
    assert index.search("docs", {"term": {"meta.owner": "ana"}}).ids == ["1"]
    assert index.search("docs", {"term": {"meta": "ana"}}).ids == []
