"""Experiment-tracking rows: experiments, their runs, params, tags, metric points, artifacts.

Numbers a run logs (param values, metric values) are kept as the JSON literal the client sent
(``"0.1"``, ``"0.10000000000000001"``, ``"3"``), so comparisons can be exact: a binary float
column would make two different values equal.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

NAME_MAX_LENGTH = 128
KEY_MAX_LENGTH = 128
VALUE_MAX_LENGTH = 4096
TAG_VALUE_MAX_LENGTH = 512
URI_MAX_LENGTH = 1024
NOTES_MAX_LENGTH = 4096
RUN_ID_LENGTH = 32


class RunStatus(models.TextChoices):
    """Where a run is in its life: running until it ends as finished or failed."""

    RUNNING = "running", "running"
    FINISHED = "finished", "finished"
    FAILED = "failed", "failed"


class Experiment(models.Model):
    """A named group of runs (one model's hyperparameter search, say)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    """One execution: its seed, status, times, parent (for forks) and what it logged."""

    run_id = models.CharField(max_length=RUN_ID_LENGTH, unique=True)
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True, default="")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    seed = models.BigIntegerField(null=True, blank=True)
    model_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="forks"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["experiment", "status"], name="experiments_run_status"),
            models.Index(fields=["finished_at"], name="experiments_run_finished"),
        ]

    def __str__(self) -> str:
        return self.run_id


class Param(models.Model):
    """A hyperparameter of a run: its key and the JSON literal of its value."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="params")
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    value = models.TextField()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="experiments_unique_param"),
        ]


class Tag(models.Model):
    """A free-form label of a run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tags")
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    value = models.CharField(max_length=TAG_VALUE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="experiments_unique_tag"),
        ]


class Metric(models.Model):
    """One point of a metric's history: its step, value (JSON literal) and when it was taken."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    step = models.BigIntegerField()
    value = models.CharField(max_length=64)
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["key", "step"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key", "step"], name="experiments_unique_point"),
        ]


class Artifact(models.Model):
    """A reference to something a run produced; the bytes live in the storage service."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    path = models.CharField(max_length=NAME_MAX_LENGTH)
    uri = models.CharField(max_length=URI_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["run", "path"], name="experiments_unique_artifact"),
        ]
