"""Feature store rows: entities, feature views and their versions, offline rows, materialisations.

Offline values are kept as the exact text of their value (``"0.10000000000000001"``, ``"42"``)
inside a JSON object, so money and counts come back digit for digit; times are aware (UTC).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

NAME_MAX_LENGTH = 128
KEY_MAX_LENGTH = 256


class Entity(models.Model):
    """What features describe (a customer, a card): its name and the key its rows carry."""

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True)
    join_key = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]


class FeatureView(models.Model):
    """A named group of features of one entity, with its owner and online time-to-live."""

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True)
    entity = models.ForeignKey(Entity, on_delete=models.PROTECT, related_name="views")
    owner = models.CharField(max_length=NAME_MAX_LENGTH)
    online_ttl_seconds = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]


class FeatureVersion(models.Model):
    """One schema of a view: its features (name, dtype, transform chain), numbered from 1."""

    view = models.ForeignKey(FeatureView, on_delete=models.CASCADE, related_name="versions")
    version = models.IntegerField()
    features = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["view", "version"]
        constraints = [
            models.UniqueConstraint(fields=["view", "version"], name="features_unique_version"),
        ]


class FeatureRow(models.Model):
    """The raw values of one entity at one event time (the offline store)."""

    view = models.ForeignKey(FeatureView, on_delete=models.CASCADE, related_name="rows")
    entity_key = models.CharField(max_length=KEY_MAX_LENGTH)
    event_time = models.DateTimeField()
    values = models.JSONField()
    ingested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["view", "entity_key", "event_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["view", "entity_key", "event_time"], name="features_unique_row"
            ),
        ]
        indexes = [
            models.Index(fields=["view", "entity_key", "event_time"], name="features_row_lookup"),
        ]


class Materialization(models.Model):
    """One copy of a view's latest values into the online store, as of a moment."""

    view = models.ForeignKey(FeatureView, on_delete=models.CASCADE, related_name="materializations")
    as_of = models.DateTimeField()
    rows = models.IntegerField()
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["view", "finished_at", "id"]
