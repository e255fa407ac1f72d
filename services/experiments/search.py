"""Run documents in the ``experiments`` search index: written after commit, searched.

Every run the service starts, ends, or logs params, tags or metrics for is indexed as it is
once the transaction that wrote it has committed, so a rolled-back change never reaches the
index; a failing index is logged and does not undo the committed change (``robust`` on-commit
callbacks). The document is read from the database when the callback runs, one callback at a
time per process, so the last one to run indexes the latest committed state even when two
writers of one run commit in either order.

Params and tags are indexed as {key, value} pairs whose value is a canonical text (numbers by
exact value: ``1``, ``1.0`` and ``1e0`` are all ``1``; strings as themselves; anything else as
its JSON), metrics as {key, value, step} of each metric's last point.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from services.django_project.routers import database_for
from services.experiments.models import Metric, Param, Run, Tag
from services.experiments.values import exact
from shared.backends import ports
from shared.search.base import SearchResult
from shared.search.mappings import EXPERIMENTS_INDEX
from shared.utils.timeutils import isoformat

DB = database_for("experiments")
RUNS_INDEX = EXPERIMENTS_INDEX.name
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_PLAIN_EXPONENT = 64
RUN_COLUMNS = (
    "run_id",
    "experiment__name",
    "model_name",
    "status",
    "name",
    "notes",
    "started_at",
    "finished_at",
)
RANGES = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}
_indexing = threading.Lock()


@dataclass(frozen=True)
class PairFilter:
    """A param or tag that must have this key and (canonical) value."""

    key: str
    value: str


@dataclass(frozen=True)
class MetricFilter:
    """A metric whose last value must compare with a number: op is =, >=, >, <= or <."""

    key: str
    op: str
    value: Decimal


def canonical_number(number: Decimal) -> str:
    """Return the one text of a number's exact value (1, 1.0 and 1e0 are all "1")."""
    if number.is_zero():
        return "0"
    normal = number.normalize()
    if abs(normal.adjusted()) > MAX_PLAIN_EXPONENT:
        return str(normal)
    return format(normal, "f")


def canonical_text(text: str) -> str:
    """Return the canonical text of a value a client searches for (numbers by exact value)."""
    return canonical_number(Decimal(text)) if JSON_NUMBER.fullmatch(text) else text


def canonical_literal(literal: str) -> str:
    """Return the canonical text of a stored JSON literal."""
    value = exact(literal)
    if isinstance(value, Decimal):
        return canonical_number(value)
    return value if isinstance(value, str) else literal


def run_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the search document of a run row (``RUN_COLUMNS``), params, tags and metrics empty."""
    document: dict[str, Any] = {
        "run_id": row["run_id"],
        "experiment": row["experiment__name"],
        "model_name": row["model_name"],
        "status": row["status"],
        "notes": " ".join(part for part in (row["name"], row["notes"]) if part),
        "started_at": isoformat(row["started_at"]),
        "params": [],
        "tags": [],
        "metrics": [],
    }
    if row["finished_at"] is not None:
        document["finished_at"] = isoformat(row["finished_at"])
    return document


def index_runs(runs: Iterable[Run]) -> None:
    """Index runs as they are once the change being made to them commits."""
    run_ids = [run.run_id for run in runs]
    transaction.on_commit(lambda: _index_current(run_ids), using=DB, robust=True)


def search_runs(
    *,
    text: str | None,
    experiment: str | None,
    status: str | None,
    size: int,
    params: Iterable[PairFilter] = (),
    tags: Iterable[PairFilter] = (),
    metrics: Iterable[MetricFilter] = (),
) -> SearchResult:
    """Return indexed runs matching free text and every exact filter given."""
    filters: list[dict[str, Any]] = []
    if experiment:
        filters.append({"term": {"experiment": experiment}})
    if status:
        filters.append({"term": {"status": status}})
    filters += [_pair("params", f) for f in params] + [_pair("tags", f) for f in tags]
    filters += [_metric(f) for f in metrics]
    must = [{"match": {"notes": {"query": text, "operator": "and"}}}] if text else []
    query = {"bool": {"filter": filters, "must": must}} if filters or must else None
    return ports().search.search(RUNS_INDEX, query, size=size, sort=["-started_at", "run_id"])


def _pair(field: str, wanted: PairFilter) -> dict[str, Any]:
    terms = [{"term": {f"{field}.key": wanted.key}}, {"term": {f"{field}.value": wanted.value}}]
    return {"nested": {"path": field, "query": {"bool": {"filter": terms}}}}


def _metric(wanted: MetricFilter) -> dict[str, Any]:
    value = float(wanted.value)
    test = (
        {"term": {"metrics.value": value}}
        if wanted.op == "="
        else {"range": {"metrics.value": {RANGES[wanted.op]: value}}}
    )
    query = {"bool": {"filter": [{"term": {"metrics.key": wanted.key}}, test]}}
    return {"nested": {"path": "metrics", "query": query}}


def _index_current(run_ids: list[str]) -> None:
    # This runs after every write of a run, so it reads value rows (four queries, no model
    # instances) rather than runs with their related managers.
    with _indexing:
        runs = Run.objects.filter(run_id__in=run_ids).values("pk", *RUN_COLUMNS)
        documents = {row["pk"]: run_document(row) for row in runs}
        params = Param.objects.filter(run__in=documents).order_by("key")
        for run_pk, key, value in params.values_list("run", "key", "value"):
            documents[run_pk]["params"].append({"key": key, "value": canonical_literal(value)})
        tags = Tag.objects.filter(run__in=documents).order_by("key")
        for run_pk, key, value in tags.values_list("run", "key", "value"):
            documents[run_pk]["tags"].append({"key": key, "value": value})
        latest = Metric.objects.filter(run=OuterRef("run"), key=OuterRef("key")).order_by("-step")
        points = Metric.objects.filter(run__in=documents, step=Subquery(latest.values("step")[:1]))
        for run_pk, key, value, step in points.order_by("key").values_list(
            "run", "key", "value", "step"
        ):
            documents[run_pk]["metrics"].append({"key": key, "value": float(value), "step": step})
        search = ports().search
        for document in documents.values():
            search.index(RUNS_INDEX, document["run_id"], document)
