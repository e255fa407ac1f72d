"""Registry rows: registered models, their numbered versions and the stage-transition audit."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

NAME_MAX_LENGTH = 128
URI_MAX_LENGTH = 1024
RUN_ID_MAX_LENGTH = 128
ACTOR_MAX_LENGTH = 128


class Stage(models.TextChoices):
    """Lifecycle stages a model version moves through."""

    NONE = "None", "None"
    STAGING = "Staging", "Staging"
    PRODUCTION = "Production", "Production"
    ARCHIVED = "Archived", "Archived"


class RegisteredModel(models.Model):
    """A named model; its versions are numbered 1, 2, 3... in registration order."""

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    """One registered artifact of a model, with its stage, metrics and parent version."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NONE)
    artifact_uri = models.CharField(max_length=URI_MAX_LENGTH)
    run_id = models.CharField(max_length=RUN_ID_MAX_LENGTH, blank=True, default="")
    metrics = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    input_schema = models.JSONField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="registry_unique_version"),
        ]
        indexes = [models.Index(fields=["model", "stage"], name="registry_version_stage")]

    def __str__(self) -> str:
        return f"{self.model_id}:{self.version}"


class StageTransition(models.Model):
    """Audit row: a version moved from one stage to another, when and by whom."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    actor = models.CharField(max_length=ACTOR_MAX_LENGTH)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
