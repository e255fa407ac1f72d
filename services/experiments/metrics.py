"""Metric histories: batches of step-indexed points appended to a run, and their summaries.

A point names its step or leaves it out; a left-out step is the next one after the key's
latest, so two writers appending to one key concurrently each get their own steps. Each
(run, key, step) holds one point (a database constraint); a batch naming a step that is
already logged is refused whole (409). When another writer takes a step between reading
the latest step and writing, the batch is retried with fresh steps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max

from services.experiments import search as experiment_search
from services.experiments import services
from services.experiments.models import Metric, Run
from services.experiments.values import decimal_of
from shared.errors import ConflictError

DB = services.DB
LOG_ATTEMPTS = 5


@dataclass(frozen=True)
class Point:
    """One metric point of a batch; step and timestamp may be left to the service."""

    key: str
    value: str
    step: int | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class Summary:
    """A metric's history in brief: its last point, extremes and length."""

    key: str
    last_step: int
    last: Decimal
    minimum: Decimal
    maximum: Decimal
    count: int


def log_batch(run_id: str, points: list[Point], *, attempts: int = 1) -> list[Metric]:
    """Append a batch of points to a running run, all or nothing; return the stored rows."""
    with transaction.atomic(using=DB):
        run = services._lock_run(run_id)
        services._check_running(run)
        _check_new_steps(run, points)
        experiment_search.index_runs([run])
        for attempt in range(attempts):
            rows = _rows(run, points)
            try:
                with transaction.atomic(using=DB):
                    return Metric.objects.bulk_create(rows)
            except IntegrityError:
                if attempt == attempts - 1:
                    message = f"metric steps of run {run_id} were taken concurrently"
                    raise ConflictError(message) from None
    raise ConflictError(f"metric steps of run {run_id} were taken concurrently")


def history(run_id: str, key: str) -> list[Metric]:
    """Return one metric's points in step order."""
    run = services.get_run(run_id)
    return list(Metric.objects.filter(run=run, key=key).order_by("step"))


def summaries(runs: list[Run]) -> dict[int, dict[str, Summary]]:
    """Return run pk -> metric key -> summary, for every metric the runs logged (one query)."""
    points: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
    rows = Metric.objects.filter(run__in=runs).order_by("run_id", "key", "step")
    for run_pk, key, step, value in rows.values_list("run_id", "key", "step", "value"):
        points[(run_pk, key)].append((step, decimal_of(value)))
    result: dict[int, dict[str, Summary]] = defaultdict(dict)
    for (run_pk, key), history_ in points.items():
        values = [value for _, value in history_]
        result[run_pk][key] = Summary(
            key, history_[-1][0], values[-1], min(values), max(values), len(values)
        )
    return result


def _check_new_steps(run: Run, points: list[Point]) -> None:
    named = {(p.key, p.step) for p in points if p.step is not None}
    if len(named) < sum(1 for p in points if p.step is not None):
        raise ConflictError("a batch names the same step of a metric twice")
    keys = {key for key, _ in named}
    taken = Metric.objects.filter(run=run, key__in=keys).values_list("key", "step")
    clash = sorted(named.intersection(taken))
    if clash:
        key, step = clash[0]
        raise ConflictError(f"step {step} of metric {key!r} is already logged")


def _rows(run: Run, points: list[Point]) -> list[Metric]:
    keys = {p.key for p in points}
    latest = dict(
        Metric.objects.filter(run=run, key__in=keys)
        .values("key")
        .annotate(step=Max("step"))
        .values_list("key", "step")
    )
    rows = []
    for point in points:
        step = point.step
        if step is None:
            step = max(latest.get(point.key, -1), -1) + 1
        latest[point.key] = max(latest.get(point.key, -1), step)
        stamp = point.timestamp or services.now()
        rows.append(Metric(run=run, key=point.key, step=step, value=point.value, timestamp=stamp))
    return rows
