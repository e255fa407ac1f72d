"""Run documents in the ``experiments`` search index: written after commit, searched.

Every run the service starts or ends is indexed as it is once the transaction that wrote it
has committed, so a rolled-back change never reaches the index; a failing index is logged and
does not undo the committed change (``robust`` on-commit callbacks).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from services.django_project.routers import database_for
from services.experiments.models import Run
from shared.backends import ports
from shared.search.base import SearchResult
from shared.search.mappings import EXPERIMENTS_INDEX
from shared.utils.timeutils import isoformat

DB = database_for("experiments")
RUNS_INDEX = EXPERIMENTS_INDEX.name


def run_document(run: Run) -> dict[str, Any]:
    """Return the search document of a run (fields of the experiments mapping)."""
    document: dict[str, Any] = {
        "run_id": run.run_id,
        "experiment": run.experiment.name,
        "model_name": run.model_name,
        "status": run.status,
        "notes": " ".join(part for part in (run.name, run.notes) if part),
        "started_at": isoformat(run.started_at),
    }
    if run.finished_at is not None:
        document["finished_at"] = isoformat(run.finished_at)
    return document


def index_runs(runs: Iterable[Run]) -> None:
    """Index runs as they are now, once the change being made to them commits."""
    documents = [run_document(run) for run in runs]
    transaction.on_commit(lambda: _index(documents), using=DB, robust=True)


def search_runs(
    *, text: str | None, experiment: str | None, status: str | None, size: int
) -> SearchResult:
    """Return indexed runs matching free text and exact experiment/status filters."""
    filters: list[dict[str, Any]] = []
    if experiment:
        filters.append({"term": {"experiment": experiment}})
    if status:
        filters.append({"term": {"status": status}})
    must = [{"match": {"notes": {"query": text, "operator": "and"}}}] if text else []
    query = {"bool": {"filter": filters, "must": must}} if filters or must else None
    return ports().search.search(RUNS_INDEX, query, size=size, sort=["-started_at", "run_id"])


def _index(documents: list[dict[str, Any]]) -> None:
    search = ports().search
    for document in documents:
        search.index(RUNS_INDEX, document["run_id"], document)
