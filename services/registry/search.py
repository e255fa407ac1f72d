"""Version documents in the ``model-versions`` search index: written after commit, searched.

Every version the registry writes is indexed as it is once the database transaction that
wrote it has committed, so a rolled-back registration or stage change never reaches the
index; a failing index is logged and does not undo the committed change (``robust``
on-commit callbacks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from services.django_project.routers import database_for
from services.registry.models import ModelVersion
from shared.backends import ports
from shared.search.base import SearchResult
from shared.search.mappings import MODEL_VERSIONS_INDEX

DB = database_for("registry")
VERSIONS_INDEX = MODEL_VERSIONS_INDEX.name


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


def index_versions(versions: Iterable[ModelVersion]) -> None:
    """Index versions as they are now, once the change being made to them commits."""
    documents = [version_document(version) for version in versions]
    transaction.on_commit(lambda: _index(documents), using=DB, robust=True)


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


def _index(documents: list[dict[str, Any]]) -> None:
    search = ports().search
    for document in documents:
        search.index(VERSIONS_INDEX, document_id(document["name"], document["version"]), document)
