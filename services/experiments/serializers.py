"""DRF serializers: validate experiment-tracking requests and render runs and experiments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from services.django_project.fields import VISIBLE, StrictCharField, StrictIntegerField
from services.experiments import metrics, services
from services.experiments.models import (
    KEY_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    URI_MAX_LENGTH,
    Artifact,
    Experiment,
    Run,
    RunStatus,
)
from services.experiments.values import number_literal, plain, to_literal
from shared.errors import ValidationError as PlatformValidationError
from shared.utils.timeutils import isoformat

MAX_PARAMS = 256
MAX_TAGS = 64
MAX_POINTS = 1000
MAX_COMPARED = 20
MAX_PARAM_BYTES = 4096
# Seeds are stored in a signed 64-bit column.
MAX_SEED = 2**63 - 1
MAX_STEP = 2**62

_NAME = RegexValidator("^" + services.NAME_PATTERN.pattern + r"\Z", "not a valid name")
_KEY = RegexValidator(r"^[A-Za-z0-9_.\-/]+\Z", "keys are letters, digits, '_', '.', '-' or '/'")


def aware(text: str) -> datetime:
    """Return an ISO 8601 timestamp with an offset as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise serializers.ValidationError("not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise serializers.ValidationError("timestamps need a time zone offset (Z or +hh:mm)")
    return parsed.astimezone(UTC)


@extend_schema_field({"type": "string", "format": "date-time"})
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 timestamp with a UTC offset; naive times are refused, output is UTC "Z"."""

    def to_internal_value(self, data: Any) -> datetime:
        """Return the instant the text names, in UTC."""
        if not isinstance(data, str) or len(data) > 64:
            raise serializers.ValidationError("expected an ISO 8601 timestamp string")
        return aware(data)

    def to_representation(self, value: datetime) -> str:
        """Write the instant in UTC with a trailing Z."""
        return isoformat(value)


def key_field() -> StrictCharField:
    """Return the field of a param, tag or metric key."""
    return StrictCharField(max_length=KEY_MAX_LENGTH, validators=[_KEY])


@extend_schema_field({"type": "object", "maxProperties": MAX_PARAMS, "additionalProperties": True})
class ParamsField(serializers.DictField):
    """Param key -> any JSON value (numbers kept exactly as written)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Return the params, checking keys, count and that every number is finite."""
        if not isinstance(data, dict):
            raise serializers.ValidationError("params must be an object")
        if len(data) > MAX_PARAMS:
            raise serializers.ValidationError(f"at most {MAX_PARAMS} params")
        for key, value in data.items():
            key_field().run_validation(key)
            try:
                text = to_literal(value, f"params.{key}")
            except PlatformValidationError as exc:
                raise serializers.ValidationError({key: exc.message}) from None
            if len(text) > MAX_PARAM_BYTES:
                raise serializers.ValidationError({key: f"at most {MAX_PARAM_BYTES} characters"})
        return dict(data)


@extend_schema_field(
    {"type": "object", "maxProperties": MAX_TAGS, "additionalProperties": {"type": "string"}}
)
class TagsField(serializers.DictField):
    """Tag key -> text."""

    child = StrictCharField(max_length=TAG_VALUE_MAX_LENGTH, allow_blank=True)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        """Return the tags, checking keys and count."""
        tags = super().to_internal_value(data)
        if len(tags) > MAX_TAGS:
            raise serializers.ValidationError(f"at most {MAX_TAGS} tags")
        for key in tags:
            key_field().run_validation(key)
        return tags


class StartRunSerializer(serializers.Serializer):
    """Validate POST /api/v1/runs and build a NewRun from it."""

    experiment = StrictCharField(max_length=NAME_MAX_LENGTH, validators=[_NAME])
    name = StrictCharField(max_length=NAME_MAX_LENGTH, required=False, default="")
    seed = StrictIntegerField(min_value=0, max_value=MAX_SEED, required=False, allow_null=True)
    model_name = StrictCharField(
        max_length=NAME_MAX_LENGTH, required=False, default="", validators=[_NAME]
    )
    notes = StrictCharField(
        max_length=NOTES_MAX_LENGTH, required=False, default="", allow_blank=True
    )
    started_at = AwareDateTimeField(required=False)
    params = ParamsField(required=False, default=dict)
    tags = TagsField(required=False, default=dict)

    def to_new_run(self) -> services.NewRun:
        """Return the validated run to start."""
        data = dict(self.validated_data)
        data.pop("experiment", None)
        return services.NewRun(**data)


class ForkSerializer(StartRunSerializer):
    """Validate POST /api/v1/runs/{id}/fork: what the fork changes; the rest is copied."""

    experiment = None  # type: ignore[assignment]
    model_name = None  # type: ignore[assignment]


class EndRunSerializer(serializers.Serializer):
    """Validate POST /api/v1/runs/{id}/end."""

    status = serializers.ChoiceField(choices=[RunStatus.FINISHED, RunStatus.FAILED])
    finished_at = AwareDateTimeField(required=False)


class ParamsSerializer(serializers.Serializer):
    """Validate POST /api/v1/runs/{id}/params."""

    params = ParamsField()


class TagsSerializer(serializers.Serializer):
    """Validate POST /api/v1/runs/{id}/tags."""

    tags = TagsField()


@extend_schema_field({"type": "number"})
class NumberField(serializers.Field):
    """A finite JSON number, kept as the literal the client wrote."""

    def to_internal_value(self, data: Any) -> str:
        """Return the number's literal."""
        try:
            return number_literal(data, "value")
        except PlatformValidationError as exc:
            raise serializers.ValidationError(exc.message) from None

    def to_representation(self, value: str) -> Any:
        """Write the stored literal as a JSON number."""
        return plain(value)


class PointSerializer(serializers.Serializer):
    """One metric point of a batch."""

    key = key_field()
    value = NumberField()
    step = StrictIntegerField(min_value=0, max_value=MAX_STEP, required=False, allow_null=True)
    timestamp = AwareDateTimeField(required=False)


class MetricBatchSerializer(serializers.Serializer):
    """Validate POST /api/v1/runs/{id}/metrics: a batch of points, all stored or none."""

    points = PointSerializer(many=True, allow_empty=False, max_length=MAX_POINTS)

    def to_points(self) -> list[metrics.Point]:
        """Return the batch as points."""
        return [metrics.Point(**point) for point in self.validated_data["points"]]


class MetricPointSerializer(serializers.Serializer):
    """A stored metric point."""

    key = serializers.CharField()
    step = serializers.IntegerField()
    value = NumberField()
    timestamp = AwareDateTimeField()


class ArtifactSerializer(serializers.ModelSerializer):
    """Validate and render an artifact reference (the URI of bytes kept elsewhere)."""

    path = StrictCharField(max_length=NAME_MAX_LENGTH, validators=[_KEY])
    uri = StrictCharField(max_length=URI_MAX_LENGTH, validators=[VISIBLE])
    created_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = Artifact
        fields = ["path", "uri", "created_at"]

    def validate_uri(self, value: str) -> str:
        """Refuse references that are not URIs."""
        if "://" not in value:
            raise serializers.ValidationError("artifact references are URIs (scheme://...)")
        return value


class CompareSerializer(serializers.Serializer):
    """Validate POST /api/v1/runs/compare: two to twenty distinct run ids."""

    run_ids = serializers.ListField(
        child=StrictCharField(max_length=64), min_length=2, max_length=MAX_COMPARED
    )

    def validate_run_ids(self, value: list[str]) -> list[str]:
        """Refuse a run named twice."""
        if len(set(value)) != len(value):
            raise serializers.ValidationError("run ids must be distinct")
        return value


class ExperimentSerializer(serializers.ModelSerializer):
    """Render an experiment; validate a new one."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH, validators=[_NAME])
    description = StrictCharField(
        max_length=NOTES_MAX_LENGTH, required=False, default="", allow_blank=True
    )
    created_at = AwareDateTimeField(read_only=True)

    class Meta:
        model = Experiment
        fields = ["name", "description", "created_at"]


class RunSerializer(serializers.ModelSerializer):
    """Render a run with its params and tags."""

    experiment = serializers.CharField(source="experiment.name")
    parent_run_id = serializers.SerializerMethodField()
    started_at = AwareDateTimeField()
    finished_at = AwareDateTimeField(allow_null=True)
    params = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "run_id",
            "experiment",
            "name",
            "status",
            "seed",
            "model_name",
            "notes",
            "parent_run_id",
            "started_at",
            "finished_at",
            "params",
            "tags",
        ]

    def get_parent_run_id(self, run: Run) -> str | None:
        """Return the forked run's id, or None."""
        return run.parent.run_id if run.parent_id else None

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_params(self, run: Run) -> dict[str, Any]:
        """Return the params as JSON values."""
        return {param.key: plain(param.value) for param in run.params.all()}

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_tags(self, run: Run) -> dict[str, str]:
        """Return the tags."""
        return {tag.key: tag.value for tag in run.tags.all()}
