"""In-memory search index honouring mappings: strict fields, keyword vs text, dynamic typing."""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from typing_extensions import override

from shared.errors import ValidationError
from shared.search import matching
from shared.search.base import (
    DocumentNotFoundError,
    IndexNotFoundError,
    SearchHit,
    SearchIndex,
    SearchResult,
    validate_doc_id,
    validate_index_name,
    validate_query,
    validate_size,
    validate_sort,
)


class _Index:
    def __init__(self, mappings: Mapping[str, Any] | None) -> None:
        self.mapping: dict[str, Any] = copy.deepcopy(dict(mappings or {}))
        self.mapping.setdefault("properties", {})
        self.docs: dict[str, dict[str, Any]] = {}


def _check_object(mapping: dict[str, Any], source: Mapping[str, Any], dynamic: Any) -> None:
    """Type-check a source against a mapping, adding dynamic fields the way Elasticsearch does."""
    dynamic = str(mapping.get("dynamic", dynamic)).lower()
    props = mapping.setdefault("properties", {})
    for name, value in source.items():
        spec = props.get(name)
        if spec is None:
            if dynamic == "strict":
                raise ValidationError(
                    f"mapping set to strict, dynamic introduction of [{name}] is not allowed",
                    details={"field": name},
                )
            if dynamic == "false" or value is None:
                continue
            spec = props[name] = matching.dynamic_spec(value)
            if not spec:
                del props[name]
                continue
        _check_value(spec, name, value, dynamic)


def _check_value(spec: dict[str, Any], name: str, value: Any, dynamic: str) -> None:
    values = value if isinstance(value, list) else [value]
    for item in values:
        if item is None:
            continue
        if spec.get("type", "object") in ("object", "nested"):  # an object field
            if not isinstance(item, Mapping):
                raise ValidationError(f"field [{name}] is an object, got {item!r}")
            _check_object(spec, item, dynamic)
        else:
            matching.coerce(spec["type"], item)


class InMemorySearchIndex(SearchIndex):
    """Thread-safe indices in a dict; searches are linear scans, fine for tests and demos."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indices: dict[str, _Index] = {}

    @override
    def create_index(
        self,
        name: str,
        mappings: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> bool:
        validate_index_name(name)
        with self._lock:
            if name in self._indices:
                return False
            self._indices[name] = _Index(mappings)
            return True

    @override
    def index_exists(self, name: str) -> bool:
        with self._lock:
            return validate_index_name(name) in self._indices

    @override
    def get_mapping(self, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._get(name).mapping)

    @override
    def add_fields(self, name: str, properties: Mapping[str, Any]) -> None:
        with self._lock:
            index = self._get(name)
            for field_name, spec in properties.items():
                found = index.mapping["properties"].get(field_name)
                if found is not None and found.get("type", "object") != spec.get("type", "object"):
                    raise ValidationError(
                        f"mapper [{field_name}] cannot be changed from type "
                        f"[{found.get('type', 'object')}] to [{spec.get('type', 'object')}]"
                    )
                index.mapping["properties"].setdefault(field_name, copy.deepcopy(dict(spec)))

    @override
    def delete_index(self, name: str) -> None:
        with self._lock:
            self._indices.pop(validate_index_name(name), None)

    @override
    def index(
        self, name: str, doc_id: str, document: Mapping[str, Any], *, refresh: bool = True
    ) -> None:
        validate_doc_id(doc_id)
        if not isinstance(document, Mapping):
            raise ValidationError("a document is a JSON object")
        source = copy.deepcopy(dict(document))
        with self._lock:
            index = self._get(name)
            mapping = copy.deepcopy(index.mapping)
            _check_object(mapping, source, "true")
            index.mapping, index.docs[doc_id] = mapping, source

    @override
    def get(self, name: str, doc_id: str) -> dict[str, Any]:
        with self._lock:
            try:
                return copy.deepcopy(self._get(name).docs[validate_doc_id(doc_id)])
            except KeyError:
                raise DocumentNotFoundError(
                    f"document {doc_id!r} not found in {name!r}", details={"id": doc_id}
                ) from None

    @override
    def delete(self, name: str, doc_id: str, *, refresh: bool = True) -> bool:
        with self._lock:
            return self._get(name).docs.pop(validate_doc_id(doc_id), None) is not None

    @override
    def search(
        self,
        name: str,
        query: Mapping[str, Any] | None = None,
        *,
        size: int = 10,
        sort: Sequence[str] | None = None,
    ) -> SearchResult:
        query, size, order = validate_query(query), validate_size(size), validate_sort(sort)
        with self._lock:
            index = self._get(name)
            found = [
                (doc_id, source)
                for doc_id, source in sorted(index.docs.items())
                if matching.matches(query, source, index.mapping)
            ]
            if order:
                found.sort(key=functools.cmp_to_key(_comparator(index.mapping, order)))
            hits = [SearchHit(i, copy.deepcopy(s)) for i, s in found[:size]]
        return SearchResult(total=len(found), hits=hits)

    def _get(self, name: str) -> _Index:
        try:
            return self._indices[validate_index_name(name)]
        except KeyError:
            raise IndexNotFoundError(f"no such index [{name}]", details={"index": name}) from None


def _comparator(
    mapping: Mapping[str, Any], order: list[tuple[str, str]]
) -> Callable[[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]], int]:
    """Compare (id, source) pairs by the sort fields: min/max per order, missing values last."""
    fields = []
    for field_name, direction in order:
        resolved = matching.resolve_field(mapping, field_name)
        if resolved is None or resolved[0] not in matching.SORTABLE:
            raise ValidationError(f"cannot sort on field [{field_name}]")
        fields.append((resolved, direction))

    def compare(a: tuple[str, dict[str, Any]], b: tuple[str, dict[str, Any]]) -> int:
        for (field_type, path), direction in fields:
            ka, kb = (
                matching.sort_key(
                    matching.indexed_terms(field_type, matching.source_values(s, path)), direction
                )
                for _, s in (a, b)
            )
            if ka[0] != kb[0]:
                return ka[0] - kb[0]
            if ka[1] != kb[1]:
                sign = 1 if ka[1] > kb[1] else -1
                return sign if direction == "asc" else -sign
        return 0

    return compare
