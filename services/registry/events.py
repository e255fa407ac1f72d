"""What the registry announces: version events on the bus and version documents in search.

Publishes ``model.version.registered`` and ``model.version.promoted`` (topic models.versions)
and indexes every version it writes into the ``model-versions`` search index; it consumes
nothing. Both happen only once the database transaction has committed, so a rolled-back
registration is never announced; a failing broker or index is logged and does not undo the
committed change (``robust`` on-commit callbacks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from services.django_project.routers import database_for
from services.registry.models import ModelVersion, Stage
from shared.backends import ports
from shared.events.schema import EventType, make_event, publish_event
from shared.search.base import SearchResult
from shared.search.mappings import MODEL_VERSIONS_INDEX

SOURCE = "registry"
DB = database_for("registry")
VERSIONS_INDEX = MODEL_VERSIONS_INDEX.name
logger = logging.getLogger(__name__)


def version_document(version: ModelVersion) -> dict[str, Any]:
    """Return the search document of a version (fields of the model-versions mapping)."""
    name = version.model.name
    return {
        "name": name,
        "version": version.version,
        "stage": version.stage,
        "run_id": version.run_id,
        "artifact_uri": version.artifact_uri,
        "summary": f"{name} version {version.version} {version.stage} {version.run_id}".strip(),
        "created_at": version.created_at.isoformat(),
        "updated_at": version.updated_at.isoformat(),
    }


def document_id(name: str, number: int) -> str:
    """Return the search document id of one version."""
    return f"{name}:{number}"


def version_registered(version: ModelVersion) -> None:
    """Announce a new version and index it once the registration commits."""
    data = {
        "name": version.model.name,
        "version": version.version,
        "artifact_uri": version.artifact_uri,
    }
    _on_commit(lambda: _index([version_document(version)]))
    _on_commit(lambda: _publish(EventType.MODEL_VERSION_REGISTERED, data))


def version_moved(version: ModelVersion, archived: Iterable[ModelVersion]) -> None:
    """Re-index a version that changed stage (and those it archived); announce a promotion."""
    archived = list(archived)
    documents = [version_document(row) for row in (version, *archived)]
    _on_commit(lambda: _index(documents))
    if version.stage != Stage.PRODUCTION:
        return
    data = {
        "name": version.model.name,
        "version": version.version,
        "artifact_uri": version.artifact_uri,
        "archived_versions": sorted(row.version for row in archived),
    }
    _on_commit(lambda: _publish(EventType.MODEL_VERSION_PROMOTED, data))


def search_versions(
    *, text: str | None, name: str | None, stage: str | None, size: int
) -> SearchResult:
    """Return indexed versions matching free text and exact name/stage filters, newest first."""
    filters: list[dict[str, Any]] = []
    if name:
        filters.append({"term": {"name": name}})
    if stage:
        filters.append({"term": {"stage": stage}})
    must = [{"match": {"summary": {"query": text, "operator": "and"}}}] if text else []
    query = {"bool": {"filter": filters, "must": must}} if filters or must else None
    return ports().search.search(VERSIONS_INDEX, query, size=size, sort=["name", "-version"])


def _on_commit(callback: Callable[[], None]) -> None:
    transaction.on_commit(callback, using=DB, robust=True)


def _index(documents: list[dict[str, Any]]) -> None:
    search = ports().search
    for document in documents:
        search.index(VERSIONS_INDEX, document_id(document["name"], document["version"]), document)


def _publish(event_type: EventType, data: dict[str, Any]) -> None:
    publish_event(ports().bus, make_event(event_type, data, source=SOURCE))
    logger.info("published %s for %s v%s", event_type.value, data["name"], data["version"])
