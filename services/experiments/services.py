"""Experiment-tracking rules: experiments, runs and their life cycle, params, tags and forks.

A run starts ``running`` and ends once, as ``finished`` or ``failed``, at a time no earlier
than its start. Params are written once per key (the same value again is a no-op, another
value a 409). A fork is a new run of the same experiment whose parent is the forked run: it
copies the parent's params (overrides applied) and carries a seed, the parent's unless the
request names another, so a rerun of the fork reproduces.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from services.django_project.routers import database_for
from services.experiments import events as experiment_events
from services.experiments import search as experiment_search
from services.experiments.models import (
    NAME_MAX_LENGTH,
    Artifact,
    Experiment,
    Param,
    Run,
    RunStatus,
    Tag,
)
from services.experiments.values import exact, to_literal
from shared.errors import ConflictError, NotFoundError, ValidationError

DB = database_for("experiments")
NAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{NAME_MAX_LENGTH - 1}}}")
RUN_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
ENDED: tuple[str, ...] = ("finished", "failed")


@dataclass(frozen=True)
class NewRun:
    """The validated fields of a run to start."""

    name: str = ""
    seed: int | None = None
    model_name: str = ""
    notes: str = ""
    started_at: datetime | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


def validate_name(name: str, what: str = "experiment") -> str:
    """Return the name, or raise ValidationError when it is not a safe identifier."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValidationError(
            f"{what} names are 1-128 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def now() -> datetime:
    """Return the current time (aware, UTC): the default time of starts, ends and points."""
    return timezone.now()


def create_experiment(name: str, description: str = "") -> tuple[Experiment, bool]:
    """Return the experiment called name, creating it; the flag says whether it is new."""
    validate_name(name)
    with transaction.atomic(using=DB):
        return Experiment.objects.get_or_create(name=name, defaults={"description": description})


def get_experiment(name: str) -> Experiment:
    """Return an experiment by name, or raise NotFoundError."""
    validate_name(name)
    try:
        return Experiment.objects.get(name=name)
    except Experiment.DoesNotExist:
        raise NotFoundError(f"experiment {name!r} not found") from None


def list_experiments() -> QuerySet[Experiment]:
    """Return every experiment, by name."""
    return Experiment.objects.order_by("name")


def run_rows() -> QuerySet[Run]:
    """Return the runs queryset every read starts from."""
    return Run.objects.all()


def get_run(run_id: str) -> Run:
    """Return a run with its experiment, parent, params and tags, or raise NotFoundError."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise NotFoundError(f"run {run_id!r} not found")
    rows = run_rows().select_related("experiment", "parent").prefetch_related("params", "tags")
    try:
        return rows.get(run_id=run_id)
    except Run.DoesNotExist:
        raise NotFoundError(f"run {run_id!r} not found") from None


def start_run(experiment_name: str, new: NewRun, *, parent: Run | None = None) -> Run:
    """Start a run of an experiment (created on first use) with its params and tags."""
    experiment, _ = create_experiment(experiment_name)
    with transaction.atomic(using=DB):
        run = Run.objects.create(
            run_id=uuid.uuid4().hex,
            experiment=experiment,
            name=new.name,
            seed=new.seed,
            model_name=new.model_name,
            notes=new.notes,
            parent=parent,
            started_at=new.started_at or now(),
        )
        Param.objects.bulk_create(
            Param(run=run, key=key, value=to_literal(value, f"params.{key}"))
            for key, value in new.params.items()
        )
        Tag.objects.bulk_create(Tag(run=run, key=k, value=v) for k, v in new.tags.items())
        experiment_search.index_runs([run])
    return get_run(run.run_id)


def log_params(run_id: str, params: Mapping[str, Any]) -> Run:
    """Add params to a running run; a key already set to another value is a 409."""
    with transaction.atomic(using=DB):
        run = _lock_run(run_id)
        _check_running(run)
        existing = dict(Param.objects.filter(run=run).values_list("key", "value"))
        new = []
        for key, value in params.items():
            text = to_literal(value, f"params.{key}")
            if key not in existing:
                new.append(Param(run=run, key=key, value=text))
            elif exact(existing[key]) != exact(text):
                raise ConflictError(f"param {key!r} of run {run_id} is already set")
        Param.objects.bulk_create(new)
        experiment_search.index_runs([run])
    return get_run(run_id)


def set_tags(run_id: str, tags: Mapping[str, str]) -> Run:
    """Set tags of a run (an existing key takes the new value)."""
    with transaction.atomic(using=DB):
        run = _lock_run(run_id)
        for key, value in tags.items():
            Tag.objects.update_or_create(run=run, key=key, defaults={"value": value})
        experiment_search.index_runs([run])
    return get_run(run_id)


def end_run(run_id: str, status: str, finished_at: datetime | None = None) -> Run:
    """End a running run as finished or failed; the end may not precede the start."""
    if status not in ENDED:
        raise ValidationError(f"a run ends as one of {list(ENDED)}")
    with transaction.atomic(using=DB):
        run = _lock_run(run_id)
        _check_running(run)
        end = finished_at or now()
        if end < run.started_at:
            raise ValidationError("finished_at must not be earlier than started_at")
        run.status = status
        run.finished_at = end
        run.save(update_fields=["status", "finished_at"])
        experiment_search.index_runs([run])
        experiment_events.run_finished(run)
    return get_run(run_id)


def fork_run(run_id: str, new: NewRun, *, keep_seed: bool = False) -> Run:
    """Start a run forked from another: parent set, params copied with overrides applied.

    ``keep_seed`` gives the fork its parent's seed (the request named none).
    """
    parent = get_run(run_id)
    params: dict[str, Any] = {p.key: exact(p.value) for p in parent.params.all()}
    params.update(new.params)
    tags = {tag.key: tag.value for tag in parent.tags.all()} | dict(new.tags)
    fork = NewRun(
        name=new.name or parent.name,
        seed=parent.seed if keep_seed else new.seed,
        model_name=parent.model_name,
        notes=new.notes,
        started_at=new.started_at,
        params=params,
        tags=tags,
    )
    return start_run(parent.experiment.name, fork, parent=parent)


def lineage(run_id: str, max_depth: int = 100) -> list[int]:
    """Return the primary keys of a run's ancestors, nearest first (stops at max_depth)."""
    run = get_run(run_id)
    parents = dict(
        Run.objects.filter(experiment_id=run.experiment_id).values_list("id", "parent_id")
    )
    chain: list[int] = []
    current = run.parent_id
    while current is not None and current not in chain and len(chain) < max_depth:
        chain.append(current)
        current = parents.get(current)
    return chain


def add_artifact(run_id: str, path: str, uri: str) -> Artifact:
    """Record a reference to something the run produced; a path is recorded once."""
    with transaction.atomic(using=DB):
        run = _lock_run(run_id)
        artifact, created = Artifact.objects.get_or_create(
            run=run, path=path, defaults={"uri": uri}
        )
    if not created and artifact.uri != uri:
        raise ConflictError(f"artifact {path!r} of run {run_id} already points elsewhere")
    return artifact


def artifacts_of(run_id: str) -> list[Artifact]:
    """Return a run's artifact references by path."""
    return list(Artifact.objects.filter(run=get_run(run_id)).order_by("path"))


def _lock_run(run_id: str) -> Run:
    # The run row is the lock that serialises writers of one run.
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise NotFoundError(f"run {run_id!r} not found")
    try:
        return Run.objects.select_for_update().select_related("experiment").get(run_id=run_id)
    except Run.DoesNotExist:
        raise NotFoundError(f"run {run_id!r} not found") from None


def _check_running(run: Run) -> None:
    if run.status != RunStatus.RUNNING:
        raise ConflictError(f"run {run.run_id} has already ended ({run.status})")
