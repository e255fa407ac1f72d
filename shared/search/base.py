"""Search-index port: indices with explicit mappings, documents and a subset of the query DSL."""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import NotFoundError, ServiceUnavailableError, ValidationError

_INDEX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,254}$")
# The query clauses every implementation understands (Elasticsearch's names and shapes).
QUERY_TYPES = frozenset({"match_all", "term", "terms", "match", "range", "bool", "nested"})
MAX_RESULT_SIZE = 1000


class SearchUnavailableError(ServiceUnavailableError):
    """Raised when the search server fails or cannot be reached."""

    code = "search_unavailable"


class IndexNotFoundError(NotFoundError):
    """Raised when the named index does not exist."""

    code = "index_not_found"


class DocumentNotFoundError(NotFoundError):
    """Raised when no document has the given ID."""

    code = "document_not_found"


@dataclass(frozen=True)
class SearchHit:
    """One matching document."""

    id: str
    source: dict[str, Any]


@dataclass(frozen=True)
class SearchResult:
    """Matching documents (a page of them) and how many match in all."""

    total: int
    hits: list[SearchHit] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """Return the ids of the hits, in result order."""
        return [hit.id for hit in self.hits]


def validate_index_name(name: str) -> str:
    """Return an index name Elasticsearch accepts (lower case, no leading - _ +)."""
    if not isinstance(name, str) or not _INDEX_RE.match(name) or name in (".", ".."):
        raise ValidationError(f"invalid index name {name!r}")
    return name


def validate_doc_id(doc_id: str) -> str:
    """Return a non-empty document id of at most 512 bytes."""
    if not isinstance(doc_id, str) or not doc_id or len(doc_id.encode("utf-8")) > 512:
        raise ValidationError("document id must be 1-512 bytes")
    return doc_id


def validate_query(query: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return a query with exactly one supported clause at the top (None → match_all)."""
    if query is None:
        return {"match_all": {}}
    if not isinstance(query, Mapping) or len(query) != 1:
        raise ValidationError("a query is an object with exactly one clause")
    (kind,) = query
    if kind not in QUERY_TYPES:
        raise ValidationError(f"unsupported query clause {kind!r}", details=sorted(QUERY_TYPES))
    return dict(query)


def validate_sort(sort: Sequence[str] | None) -> list[tuple[str, str]]:
    """Return sort fields as (field, "asc"|"desc"); "-field" sorts descending."""
    pairs = []
    for item in sort or ():
        if not isinstance(item, str) or not item.strip("-"):
            raise ValidationError(f"invalid sort field {item!r}")
        pairs.append((item[1:], "desc") if item.startswith("-") else (item, "asc"))
    return pairs


def validate_size(size: int) -> int:
    """Return a page size in 0..MAX_RESULT_SIZE."""
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_RESULT_SIZE:
        raise ValidationError(f"size must be between 0 and {MAX_RESULT_SIZE}")
    return size


def mapping_problems(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """List how an index's mapping departs from the expected one (dynamic and field types)."""
    problems = []
    if "dynamic" in expected and str(actual.get("dynamic")) != str(expected["dynamic"]):
        problems.append(f"dynamic is {actual.get('dynamic')!r}, not {expected['dynamic']!r}")
    have = actual.get("properties", {})
    for name, spec in expected.get("properties", {}).items():
        got = have.get(name)
        if got is None:
            problems.append(f"field {name!r} is not mapped")
        elif got.get("type", "object") != spec.get("type", "object"):
            problems.append(f"field {name!r} is {got.get('type')!r}, not {spec.get('type')!r}")
        elif "properties" in spec:
            problems += [f"{name}.{p}" for p in mapping_problems(spec, got)]
    return problems


class SearchIndex(abc.ABC):
    """Indices of JSON documents with typed fields, searched with Elasticsearch's query DSL."""

    @abc.abstractmethod
    def create_index(
        self,
        name: str,
        mappings: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> bool:
        """Create an index (dynamic mapping when mappings is None); False when it exists."""

    @abc.abstractmethod
    def index_exists(self, name: str) -> bool:
        """Return whether the index exists."""

    @abc.abstractmethod
    def get_mapping(self, name: str) -> dict[str, Any]:
        """Return the index's mapping: {"dynamic"?, "properties": {field: {"type": ...}}}."""

    @abc.abstractmethod
    def add_fields(self, name: str, properties: Mapping[str, Any]) -> None:
        """Map new fields in an existing index (Elasticsearch's put mapping; additive only)."""

    @abc.abstractmethod
    def delete_index(self, name: str) -> None:
        """Delete an index and its documents; a missing index is a no-op."""

    @abc.abstractmethod
    def index(
        self, name: str, doc_id: str, document: Mapping[str, Any], *, refresh: bool = True
    ) -> None:
        """Store (or replace) a document; refresh makes it searchable before returning."""

    @abc.abstractmethod
    def get(self, name: str, doc_id: str) -> dict[str, Any]:
        """Return a document's source, or raise DocumentNotFoundError."""

    @abc.abstractmethod
    def delete(self, name: str, doc_id: str, *, refresh: bool = True) -> bool:
        """Delete a document; return whether it existed."""

    @abc.abstractmethod
    def search(
        self,
        name: str,
        query: Mapping[str, Any] | None = None,
        *,
        size: int = 10,
        sort: Sequence[str] | None = None,
    ) -> SearchResult:
        """Return the documents matching query, ordered by sort (field or "-field")."""
