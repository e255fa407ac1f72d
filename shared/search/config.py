"""The table of search-index backends and the factory that builds one from settings."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from shared.errors import ValidationError
from shared.infra_settings import InfraSettings, get_infra_settings
from shared.search.base import SearchIndex

# Configured backend name -> "module:class" of the adapter, imported only when chosen.
SEARCH_BACKENDS: dict[str, str] = {
    "memory": "shared.search.memory:InMemorySearchIndex",
    "elasticsearch": "shared.search.elasticsearch:ElasticsearchSearchIndex",
}


def create_search_index(
    kind: str = "elasticsearch", settings: InfraSettings | None = None
) -> SearchIndex:
    """Build the search index configured by its short name ("memory" or "elasticsearch")."""
    try:
        module_name, attr = SEARCH_BACKENDS[kind].split(":")
    except KeyError:
        raise ValidationError(
            f"unknown search backend {kind!r}", details={"choices": sorted(SEARCH_BACKENDS)}
        ) from None
    index_cls: Callable[..., SearchIndex] = getattr(importlib.import_module(module_name), attr)
    if kind == "memory":
        return index_cls()
    settings = settings or get_infra_settings()
    return index_cls(url=settings.elasticsearch_url, request_timeout=settings.elasticsearch_timeout)
