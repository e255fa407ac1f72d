"""Create the platform's search indices with their explicit mappings and check existing ones."""

from __future__ import annotations

from collections.abc import Iterable

from shared.errors import SynapseError
from shared.search.base import SearchIndex, mapping_problems
from shared.search.mappings import PLATFORM_INDICES, IndexDefinition


class IndexBootstrapError(SynapseError):
    """Raised when a platform index cannot be created or has another mapping."""

    status_code = 503
    code = "index_bootstrap_failed"


def ensure_index(index: SearchIndex, definition: IndexDefinition, prefix: str = "") -> bool:
    """Create one index with its mapping; an existing one must have it (new fields are added)."""
    name = prefix + definition.name
    try:
        created = index.create_index(
            name, mappings=definition.mappings, settings=definition.settings
        )
        problems = [] if created else _upgrade(index, name, definition)
    except SynapseError as exc:
        raise IndexBootstrapError(
            f"could not create index {name!r}: {exc.message}", details={"index": name}
        ) from exc
    if problems:
        raise IndexBootstrapError(
            f"index {name!r} exists with another mapping: {'; '.join(problems)}",
            details={"index": name, "problems": problems},
        )
    return created


def _upgrade(index: SearchIndex, name: str, definition: IndexDefinition) -> list[str]:
    """Map the fields an existing index lacks when nothing else differs; return what still does.

    New fields are the one mapping change Elasticsearch makes in place; any other difference
    (a field of another type, another ``dynamic``) is reported and the index left alone.
    """
    expected, actual = definition.mappings, index.get_mapping(name)
    have = actual.get("properties", {})
    missing = {k: v for k, v in expected.get("properties", {}).items() if k not in have}
    problems = mapping_problems(expected, actual)
    with_missing = {**actual, "properties": {**have, **missing}}
    if not missing or mapping_problems(expected, with_missing):
        return problems
    index.add_fields(name, missing)
    return mapping_problems(expected, index.get_mapping(name))


def ensure_indices(
    index: SearchIndex,
    definitions: Iterable[IndexDefinition] = PLATFORM_INDICES.values(),
    prefix: str = "",
) -> list[str]:
    """Create every platform index that is missing and return the names created."""
    return [prefix + d.name for d in definitions if ensure_index(index, d, prefix)]
