"""DRF serializers: validate registry requests and render versions, models and audit rows."""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from services.django_project.fields import (
    VISIBLE,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
)
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
# Largest version number a request may name: fits a 32-bit integer column everywhere.
MAX_VERSION = 2**31 - 1


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": MAX_METRICS,
        "propertyNames": {"minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "additionalProperties": {"type": "number"},
    }
)
class MetricsField(serializers.DictField):
    """Metric name -> finite number."""


@extend_schema_field({"type": "object", "additionalProperties": True})
class ParamsField(serializers.DictField):
    """Free-form JSON parameters."""


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "minItems": 1,
        "maxItems": MAX_FEATURES,
        "uniqueItems": True,
    }
)
class FeatureNamesField(serializers.ListField):
    """Unique, non-empty feature names."""


@extend_schema_field(
    {
        "type": ["object", "null"],
        "properties": {"features": {"type": "array", "items": {"type": "string"}}},
        "required": ["features"],
    }
)
class StoredInputSchemaField(serializers.JSONField):
    """A stored version's input schema: its feature names, or null."""


class InputSchemaSerializer(serializers.Serializer):
    """Validate the feature names a version was trained on."""

    features = FeatureNamesField(
        child=StrictCharField(max_length=MAX_KEY_LENGTH, trim_whitespace=False),
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

    artifact_uri = StrictCharField(
        min_length=1, max_length=URI_MAX_LENGTH, trim_whitespace=False, validators=[VISIBLE]
    )
    run_id = StrictCharField(
        max_length=RUN_ID_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        validators=[VISIBLE],
    )
    metrics = MetricsField(child=StrictFloatField(), required=False, default=dict)
    params = ParamsField(required=False, default=dict)
    parent_version = StrictIntegerField(
        min_value=1, max_value=MAX_VERSION, required=False, allow_null=True
    )
    input_schema = InputSchemaSerializer(required=False, allow_null=True)

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
    archive_existing = StrictBooleanField(required=False, default=True)


class ActorSerializer(serializers.Serializer):
    """Validate the X-Actor header that names who asked for a transition."""

    actor = serializers.CharField(
        max_length=ACTOR_MAX_LENGTH,
        trim_whitespace=False,
        validators=[RegexValidator(r"^[!-~]+\Z", "must be printable ASCII without spaces")],
    )


class ModelVersionSerializer(serializers.ModelSerializer):
    """Show a model version with its model name and parent."""

    name = serializers.CharField(source="model.name", read_only=True)
    parent_version = serializers.IntegerField(
        source="parent.version", read_only=True, allow_null=True, default=None
    )
    metrics = serializers.DictField(child=serializers.FloatField(), read_only=True)
    params = ParamsField(read_only=True)
    input_schema = StoredInputSchemaField(read_only=True)

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
