"""Elasticsearch 8 adapter of the search-index port; the client is built on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch
from typing_extensions import override

from shared.errors import ValidationError
from shared.search.base import (
    DocumentNotFoundError,
    IndexNotFoundError,
    SearchHit,
    SearchIndex,
    SearchResult,
    SearchUnavailableError,
    validate_doc_id,
    validate_index_name,
    validate_query,
    validate_size,
    validate_sort,
)

_EXISTS = "resource_already_exists_exception"


def _body(response: Any) -> Any:
    return getattr(response, "body", response)


class ElasticsearchSearchIndex(SearchIndex):
    """Search index on an Elasticsearch 8 cluster (or a server speaking its REST API)."""

    def __init__(
        self,
        client: Any = None,
        *,
        url: str = "http://localhost:9200",
        request_timeout: float = 5.0,
        max_retries: int = 1,
        client_factory: Callable[..., Any] = Elasticsearch,
    ) -> None:
        self._client = client
        self.url = url
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self._factory = client_factory
        self._lock = threading.Lock()

    def client_config(self) -> dict[str, Any]:
        """Return the Elasticsearch client's settings: bounded timeouts and retries."""
        return {
            "hosts": [self.url],
            "request_timeout": self.request_timeout,
            "max_retries": self.max_retries,
            "retry_on_timeout": False,
        }

    @property
    def client(self) -> Any:
        """Return the Elasticsearch client, built on first use (building it does not connect)."""
        with self._lock:
            if self._client is None:
                self._client = self._factory(**self.client_config())
            return self._client

    @override
    def create_index(
        self,
        name: str,
        mappings: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> bool:
        validate_index_name(name)
        options: dict[str, Any] = {"index": name}
        if mappings is not None:
            options["mappings"] = dict(mappings)
        if settings is not None:
            options["settings"] = dict(settings)
        try:
            with self._errors(name):
                self.client.indices.create(**options)
        except ValidationError as exc:
            if (exc.details or {}).get("type") == _EXISTS:
                return False
            raise
        return True

    @override
    def index_exists(self, name: str) -> bool:
        with self._errors(validate_index_name(name)):
            return bool(self.client.indices.exists(index=name))

    @override
    def get_mapping(self, name: str) -> dict[str, Any]:
        with self._errors(validate_index_name(name)):
            found = _body(self.client.indices.get_mapping(index=name))
        return dict(found.get(name, {}).get("mappings", {}))

    @override
    def add_fields(self, name: str, properties: Mapping[str, Any]) -> None:
        with self._errors(validate_index_name(name)):
            self.client.indices.put_mapping(index=name, properties=dict(properties))

    @override
    def delete_index(self, name: str) -> None:
        try:
            with self._errors(validate_index_name(name)):
                self.client.indices.delete(index=name)
        except IndexNotFoundError:
            pass

    @override
    def index(
        self, name: str, doc_id: str, document: Mapping[str, Any], *, refresh: bool = True
    ) -> None:
        validate_doc_id(doc_id)
        if not isinstance(document, Mapping):
            raise ValidationError("a document is a JSON object")
        with self._errors(validate_index_name(name)):
            self.client.index(index=name, id=doc_id, document=dict(document), refresh=refresh)

    @override
    def get(self, name: str, doc_id: str) -> dict[str, Any]:
        try:
            with self._errors(validate_index_name(name)):
                found = _body(self.client.get(index=name, id=validate_doc_id(doc_id)))
        except IndexNotFoundError as exc:
            if (exc.details or {}).get("type") == "index_not_found_exception":
                raise
            found = {"found": False}
        if not found.get("found"):
            raise DocumentNotFoundError(
                f"document {doc_id!r} not found in {name!r}", details={"id": doc_id}
            )
        return dict(found["_source"])

    @override
    def delete(self, name: str, doc_id: str, *, refresh: bool = True) -> bool:
        try:
            with self._errors(validate_index_name(name)):
                self.client.delete(index=name, id=validate_doc_id(doc_id), refresh=refresh)
        except IndexNotFoundError as exc:
            if (exc.details or {}).get("type") == "index_not_found_exception":
                raise
            return False
        return True

    @override
    def search(
        self,
        name: str,
        query: Mapping[str, Any] | None = None,
        *,
        size: int = 10,
        sort: Sequence[str] | None = None,
    ) -> SearchResult:
        options: dict[str, Any] = {
            "index": validate_index_name(name),
            "query": validate_query(query),
            "size": validate_size(size),
            "track_total_hits": True,
        }
        order = validate_sort(sort)
        if order:
            options["sort"] = [{field: {"order": direction}} for field, direction in order]
        with self._errors(name):
            found = _body(self.client.search(**options))
        hits = [SearchHit(h["_id"], dict(h.get("_source") or {})) for h in found["hits"]["hits"]]
        total = found["hits"]["total"]
        return SearchResult(
            total=total["value"] if isinstance(total, Mapping) else total, hits=hits
        )

    @contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        """Turn client errors into the port's errors: 404 not found, 400 invalid, else 503."""
        try:
            yield
        except ApiError as exc:
            details = {"index": name, "type": exc.message, "status": exc.meta.status}
            if exc.meta.status == 404:
                raise IndexNotFoundError(f"{name}: {exc}", details=details) from exc
            if exc.meta.status == 400:
                raise ValidationError(f"{name}: {exc}", details=details) from exc
            raise SearchUnavailableError(f"{name}: {exc}", details=details) from exc
        except elastic_transport.TransportError as exc:
            raise SearchUnavailableError(
                f"Elasticsearch at {self.url} failed on {name!r}: {exc}", details={"index": name}
            ) from exc
