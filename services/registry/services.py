"""Registry rules: version allocation, stage transitions, Production hand-over and lineage.

Registering a version for a model name that does not exist yet creates the registered model
in the same transaction, so the first version of a new model is always 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from services.django_project.routers import database_for
from services.registry import events as registry_events
from services.registry import runs as registry_runs
from services.registry import search as registry_search
from services.registry.models import (
    NAME_MAX_LENGTH,
    ModelVersion,
    RegisteredModel,
    Stage,
    StageTransition,
)
from shared.errors import ConflictError, NotFoundError, ValidationError

DB = database_for("registry")
NAME_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{NAME_MAX_LENGTH - 1}}}")
ANONYMOUS = "anonymous"
MAX_LINEAGE_DEPTH = 100

# (from, to) pairs a version may take; anything else is a 409.
ALLOWED_TRANSITIONS = frozenset(
    {
        (Stage.NONE, Stage.STAGING),
        (Stage.STAGING, Stage.PRODUCTION),
        (Stage.STAGING, Stage.NONE),
        (Stage.PRODUCTION, Stage.ARCHIVED),
        (Stage.STAGING, Stage.ARCHIVED),
    }
)


@dataclass(frozen=True)
class NewVersion:
    """The validated fields of a version registration."""

    artifact_uri: str
    run_id: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    input_schema: dict[str, Any] | None = None
    parent_version: int | None = None


@dataclass(frozen=True)
class Lineage:
    """A version and its ancestors, nearest first; truncated when the walk was cut short."""

    version: ModelVersion
    ancestors: list[ModelVersion]
    truncated: bool


def validate_name(name: str) -> str:
    """Return the model name, or raise ValidationError when it is not a safe identifier."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValidationError(
            "model names are 1-128 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def parse_stage(stage: str) -> Stage:
    """Return the Stage named by a string, or raise ValidationError."""
    try:
        return Stage(stage)
    except ValueError:
        raise ValidationError(f"unknown stage; expected one of {list(Stage.values)}") from None


def check_transition(source: str, target: str) -> None:
    """Raise ConflictError unless a version may move from source to target."""
    if (source, target) not in ALLOWED_TRANSITIONS:
        raise ConflictError(f"cannot move a version from {source} to {target}")


def list_models(*, limit: int, offset: int) -> tuple[list[RegisteredModel], int]:
    """Return a page of registered models with their latest version number, and the total."""
    rows = RegisteredModel.objects.annotate(
        latest_version=Max("versions__version"), version_count=Count("versions")
    )
    return list(rows[offset : offset + limit]), RegisteredModel.objects.count()


def get_model(name: str) -> RegisteredModel:
    """Return a registered model by name, or raise NotFoundError."""
    validate_name(name)
    rows = RegisteredModel.objects.annotate(
        latest_version=Max("versions__version"), version_count=Count("versions")
    )
    try:
        return rows.get(name=name)
    except RegisteredModel.DoesNotExist:
        raise NotFoundError(f"registered model {name!r} not found") from None


def get_version(name: str, number: int) -> ModelVersion:
    """Return one version of a model, or raise NotFoundError."""
    validate_name(name)
    rows = ModelVersion.objects.select_related("model", "parent")
    try:
        return rows.get(model__name=name, version=number)
    except ModelVersion.DoesNotExist:
        raise NotFoundError(f"version {number} of {name!r} not found") from None


def list_versions(
    name: str, *, stage: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[ModelVersion], int]:
    """Return a page of a model's versions in version order, and how many match."""
    model = get_model(name)
    rows = ModelVersion.objects.filter(model=model)
    if stage is not None:
        rows = rows.filter(stage=parse_stage(stage))
    total = rows.count()
    page = rows.select_related("model", "parent").order_by("version")[offset : offset + limit]
    return list(page), total


def versions_of_run(run_id: str, *, limit: int, offset: int) -> tuple[list[ModelVersion], int]:
    """Return a page of the versions registered from one experiment run, and how many."""
    rows = ModelVersion.objects.filter(run_id=run_id)
    total = rows.count()
    page = rows.select_related("model", "parent").order_by("model__name", "version")
    return list(page[offset : offset + limit]), total


def register_version(name: str, new: NewVersion) -> ModelVersion:
    """Register the next version of a model, creating the model on first use."""
    validate_name(name)
    registry_runs.check_run(new.run_id)
    with transaction.atomic(using=DB):
        model = _lock_model(name, create=True)
        number = _next_version_number(name)
        parent = _parent_row(model, new.parent_version)
        try:
            version = ModelVersion.objects.create(
                model=model,
                version=number,
                artifact_uri=new.artifact_uri,
                run_id=new.run_id,
                metrics=new.metrics,
                params=new.params,
                input_schema=new.input_schema,
                parent=parent,
            )
        except IntegrityError as exc:
            raise ConflictError(
                f"version {number} of {name!r} was registered concurrently"
            ) from exc
        registry_search.index_versions([version])
        registry_events.version_registered(version)
    return version


def transition_version(
    name: str,
    number: int,
    stage: str,
    *,
    archive_existing: bool = True,
    actor: str = ANONYMOUS,
) -> tuple[ModelVersion, list[ModelVersion]]:
    """Move a version to a stage; promoting to Production archives the current one."""
    target = parse_stage(stage)
    archived: list[ModelVersion] = []
    with transaction.atomic(using=DB):
        model = _lock_model(name)
        version = _version_row(model, number)
        check_transition(version.stage, target)
        if target == Stage.PRODUCTION and archive_existing:
            archived = _archive_production(name, actor)
        _set_stage(version, target, actor)
        registry_search.index_versions([version, *archived])
        registry_events.version_moved(version, archived)
    return version, archived


def transitions_of(name: str, number: int) -> list[StageTransition]:
    """Return the audit rows of a version, oldest first."""
    version = get_version(name, number)
    return list(StageTransition.objects.filter(version=version).order_by("at", "id"))


def lineage(name: str, number: int, *, max_depth: int = MAX_LINEAGE_DEPTH) -> Lineage:
    """Return a version's ancestors nearest first, stopping at cycles and at max_depth."""
    version = get_version(name, number)
    parents = dict(
        ModelVersion.objects.filter(model_id=version.model_id).values_list("id", "parent_id")
    )
    chain: list[int] = []
    seen = {version.pk}
    current = version.parent_id
    truncated = False
    while current is not None and current in parents and current not in seen:
        if len(chain) >= max_depth:
            truncated = True
            break
        chain.append(current)
        seen.add(current)
        current = parents[current]
    rows = ModelVersion.objects.select_related("model", "parent").in_bulk(chain)
    return Lineage(version, [rows[pk] for pk in chain], truncated)


def _lock_model(name: str, *, create: bool = False) -> RegisteredModel:
    # The model row is the lock that serialises version numbering and stage changes.
    rows = RegisteredModel.objects.select_for_update()
    if create:
        model, _ = rows.get_or_create(name=name)
        return model
    try:
        return rows.get(name=name)
    except RegisteredModel.DoesNotExist:
        raise NotFoundError(f"registered model {name!r} not found") from None


def _next_version_number(name: str) -> int:
    latest = ModelVersion.objects.filter(model__name=name).aggregate(latest=Max("version"))
    return (latest["latest"] or 0) + 1


def _parent_row(model: RegisteredModel, parent_version: int | None) -> ModelVersion | None:
    if parent_version is None:
        return None
    try:
        return ModelVersion.objects.get(model=model, version=parent_version)
    except ModelVersion.DoesNotExist:
        message = f"parent version {parent_version} of {model.name!r} does not exist"
        error = {"loc": ["parent_version"], "msg": message, "type": "not_found"}
        raise ValidationError(message, details=[error]) from None


def _version_row(model: RegisteredModel, number: int) -> ModelVersion:
    try:
        return ModelVersion.objects.select_related("model", "parent").get(
            model=model, version=number
        )
    except ModelVersion.DoesNotExist:
        raise NotFoundError(f"version {number} of {model.name!r} not found") from None


def _archive_production(name: str, actor: str) -> list[ModelVersion]:
    current = ModelVersion.objects.select_related("model", "parent").filter(
        model__name=name, stage=Stage.PRODUCTION
    )
    archived = list(current)
    for version in archived:
        _set_stage(version, Stage.ARCHIVED, actor)
    return archived


def _set_stage(version: ModelVersion, target: Stage, actor: str) -> None:
    StageTransition.objects.create(
        version=version, from_stage=version.stage, to_stage=target, actor=actor
    )
    version.stage = target
    version.save(update_fields=["stage", "updated_at"])
