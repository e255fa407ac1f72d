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
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from services.django_project.routers import database_for
from services.experiments.models import Metric, Run
from services.experiments.values import exact
from shared.backends import ports
from shared.search.base import SearchResult
from shared.search.mappings import EXPERIMENTS_INDEX
from shared.utils.timeutils import isoformat

DB = database_for("experiments")
RUNS_INDEX = EXPERIMENTS_INDEX.name
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_PLAIN_EXPONENT = 64
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


def full_document(run: Run, last_points: Iterable[Metric]) -> dict[str, Any]:
    """Return a run's document with its params, tags and each metric's last point."""
    document = run_document(run)
    document["params"] = [
        {"key": p.key, "value": canonical_literal(p.value)} for p in run.params.all()
    ]
    document["tags"] = [{"key": t.key, "value": t.value} for t in run.tags.all()]
    document["metrics"] = [
        {"key": m.key, "value": float(m.value), "step": m.step}
        for m in sorted(last_points, key=lambda m: m.key)
    ]
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
    with _indexing:
        runs = list(
            Run.objects.filter(run_id__in=run_ids)
            .select_related("experiment")
            .prefetch_related("params", "tags")
        )
        latest = Metric.objects.filter(run=OuterRef("run"), key=OuterRef("key")).order_by("-step")
        points = Metric.objects.filter(run__in=runs, step=Subquery(latest.values("step")[:1]))
        by_run: dict[int, list[Metric]] = {}
        for point in points:
            by_run.setdefault(point.run_id, []).append(point)
        search = ports().search
        for run in runs:
            search.index(RUNS_INDEX, run.run_id, full_document(run, by_run.get(run.pk, [])))
