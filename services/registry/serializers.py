"""DRF serializers: validate registry requests and render versions, models and audit rows."""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework import serializers

from services.registry.models import (
    ACTOR_MAX_LENGTH,
    RUN_ID_MAX_LENGTH,
    URI_MAX_LENGTH,
    ModelVersion,
    RegisteredModel,
    Stage,
    StageTransition,
)
from services.registry.services import NewVersion

MAX_METRICS = 256
MAX_KEY_LENGTH = 128
MAX_FEATURES = 1024
MAX_PARAMS_BYTES = 64 * 1024


def _printable(value: str) -> str:
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise serializers.ValidationError("must not contain whitespace or control characters")
    return value


class InputSchemaSerializer(serializers.Serializer):
    """Validate the feature names a version was trained on."""

    features = serializers.ListField(
        child=serializers.CharField(max_length=MAX_KEY_LENGTH),
        min_length=1,
        max_length=MAX_FEATURES,
    )

    def validate_features(self, value: list[str]) -> list[str]:
        """Refuse repeated feature names."""
        if len(set(value)) != len(value):
            raise serializers.ValidationError("feature names must be unique")
        return value


class RegisterVersionSerializer(serializers.Serializer):
    """Validate POST .../versions and build a NewVersion from it."""

    artifact_uri = serializers.CharField(max_length=URI_MAX_LENGTH, validators=[_printable])
    run_id = serializers.CharField(
        max_length=RUN_ID_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    metrics = serializers.DictField(child=serializers.FloatField(), required=False, default=dict)
    params = serializers.DictField(required=False, default=dict)
    parent_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    input_schema = InputSchemaSerializer(required=False, allow_null=True)

    def validate_run_id(self, value: str) -> str:
        """Refuse a run ID with non-printable characters."""
        return _printable(value) if value else value

    def validate_metrics(self, value: dict[str, float]) -> dict[str, float]:
        """Refuse too many metrics, bad metric names and non-finite values."""
        if len(value) > MAX_METRICS:
            raise serializers.ValidationError(f"at most {MAX_METRICS} metrics")
        for key, number in value.items():
            if not key or len(key) > MAX_KEY_LENGTH:
                raise serializers.ValidationError(f"metric names are 1-{MAX_KEY_LENGTH} chars")
            if not math.isfinite(number):
                raise serializers.ValidationError(f"metric {key!r} must be a finite number")
        return value

    def validate_params(self, value: dict[str, Any]) -> dict[str, Any]:
        """Refuse params that are not plain finite JSON or are too large."""
        try:
            size = len(json.dumps(value, allow_nan=False).encode())
        except (TypeError, ValueError):
            raise serializers.ValidationError("params must be plain finite JSON") from None
        if size > MAX_PARAMS_BYTES:
            raise serializers.ValidationError(f"params exceed {MAX_PARAMS_BYTES} bytes")
        return value

    def to_new_version(self) -> NewVersion:
        """Return the validated request as a NewVersion."""
        data = self.validated_data
        return NewVersion(
            artifact_uri=data["artifact_uri"],
            run_id=data.get("run_id", ""),
            metrics=dict(data.get("metrics", {})),
            params=dict(data.get("params", {})),
            input_schema=data.get("input_schema"),
            parent_version=data.get("parent_version"),
        )


class TransitionSerializer(serializers.Serializer):
    """Validate POST .../transition."""

    stage = serializers.ChoiceField(choices=Stage.values)
    archive_existing = serializers.BooleanField(required=False, default=True)


class ActorSerializer(serializers.Serializer):
    """Validate the X-Actor header that names who asked for a transition."""

    actor = serializers.CharField(max_length=ACTOR_MAX_LENGTH, validators=[_printable])


class ModelVersionSerializer(serializers.ModelSerializer):
    """Show a model version with its model name and parent."""

    name = serializers.CharField(source="model.name", read_only=True)
    parent_version = serializers.IntegerField(
        source="parent.version", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ModelVersion
        fields = [
            "name",
            "version",
            "stage",
            "artifact_uri",
            "run_id",
            "metrics",
            "params",
            "input_schema",
            "parent_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TransitionResultSerializer(ModelVersionSerializer):
    """Show a transitioned version with the versions it archived."""

    archived_versions = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "archived_versions"]
        read_only_fields = fields


class RegisteredModelSerializer(serializers.ModelSerializer):
    """Show a registered model with its latest version and version count."""

    latest_version = serializers.IntegerField(read_only=True, allow_null=True)
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = RegisteredModel
        fields = ["name", "latest_version", "version_count", "created_at", "updated_at"]
        read_only_fields = fields


class StageTransitionSerializer(serializers.ModelSerializer):
    """Show one entry of a version's stage-transition audit."""

    class Meta:
        model = StageTransition
        fields = ["from_stage", "to_stage", "actor", "at"]
        read_only_fields = fields


class LineageSerializer(serializers.Serializer):
    """Show a version's ancestors, nearest first."""

    name = serializers.CharField(source="version.model.name")
    version = serializers.IntegerField(source="version.version")
    ancestors = ModelVersionSerializer(many=True)
    truncated = serializers.BooleanField()
