"""Registry HTTP views: thin DRF wrappers over services.py."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from services.django_project.openapi import BODY_ERRORS, problems
from services.registry import search as registry_search
from services.registry import services
from services.registry.models import ACTOR_MAX_LENGTH, NAME_MAX_LENGTH, RUN_ID_MAX_LENGTH
from services.registry.serializers import (
    MAX_VERSION,
    ActorSerializer,
    LineageSerializer,
    ModelVersionSerializer,
    RegisteredModelSerializer,
    RegisterVersionSerializer,
    StageTransitionSerializer,
    TransitionResultSerializer,
    TransitionSerializer,
)
from shared.errors import ValidationError

DEFAULT_LIMIT = 100
DEFAULT_SEARCH_SIZE = 20
MAX_SEARCH_SIZE = 100
MAX_LIMIT = 1000
# SQLite and PostgreSQL fail on an OFFSET beyond 64 bits; this bound is far past any registry.
MAX_OFFSET = 2**31 - 1
MAX_QUERY_LENGTH = 256
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
NO_CONTROL_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def integer(low: int, high: int, default: int | None = None) -> dict[str, object]:
    """Return the OpenAPI schema of an integer in [low, high]."""
    schema: dict[str, object] = {"type": "integer", "minimum": low, "maximum": high}
    return schema if default is None else {**schema, "default": default}


NAME_SCHEMA = {
    "type": "string",
    "pattern": services.NAME_PATTERN.pattern.join("^$"),
    "maxLength": NAME_MAX_LENGTH,
}
STAGE_PARAMETER = OpenApiParameter("stage", str, enum=list(services.Stage.values))
PAGE_PARAMETERS = [
    OpenApiParameter("limit", integer(1, MAX_LIMIT, DEFAULT_LIMIT), description="page size"),
    OpenApiParameter("offset", integer(0, MAX_OFFSET, 0), description="items to skip"),
]
NAME_PARAMETER = OpenApiParameter("name", NAME_SCHEMA, OpenApiParameter.PATH)
VERSION_PARAMETERS = [
    NAME_PARAMETER,
    OpenApiParameter("version", integer(1, MAX_VERSION), OpenApiParameter.PATH),
]
ACTOR_PARAMETER = OpenApiParameter(
    "X-Actor",
    {"type": "string", "minLength": 1, "maxLength": ACTOR_MAX_LENGTH, "pattern": r"^[!-~]+$"},
    OpenApiParameter.HEADER,
    description="who asks for the change (printable ASCII)",
)


def query_int(request: Request, key: str, default: int, low: int, high: int) -> int:
    """Return an integer query parameter in [low, high], or raise ValidationError."""
    raw = request.query_params.get(key)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        message = f"{key} must be an integer from {low} to {high}"
        error = {"loc": ["query", key], "msg": message, "type": "value_error"}
        raise ValidationError(message, details=[error])
    return value


def page_of(request: Request) -> tuple[int, int]:
    """Return (limit, offset) from the query string, or raise ValidationError."""
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return limit, query_int(request, "offset", 0, 0, MAX_OFFSET)


def valid(serializer: serializers.Serializer) -> serializers.Serializer:
    """Validate a serializer, raising DRF's ValidationError (rendered as a 422)."""
    serializer.is_valid(raise_exception=True)
    return serializer


def actor_of(request: Request) -> str:
    """Return who asked for a change, from the X-Actor header."""
    actor = request.headers.get("X-Actor")
    if actor is None:
        return services.ANONYMOUS
    return valid(ActorSerializer(data={"actor": actor})).validated_data["actor"]


def page_body(items: list, total: int, limit: int, offset: int, **extra: object) -> dict:
    """Return the platform's page shape."""
    return {**extra, "items": items, "total": total, "limit": limit, "offset": offset}


class RegisteredModelListView(APIView):
    """List registered models a page at a time."""

    @extend_schema(
        operation_id="list_registered_models",
        parameters=PAGE_PARAMETERS,
        responses={
            200: inline_serializer(
                "RegisteredModelPage",
                {
                    "items": RegisteredModelSerializer(many=True),
                    "total": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                    "offset": serializers.IntegerField(),
                },
            ),
            **problems(422),
        },
    )
    def get(self, request: Request) -> Response:
        """List registered models."""
        limit, offset = page_of(request)
        rows, total = services.list_models(limit=limit, offset=offset)
        items = RegisteredModelSerializer(rows, many=True).data
        return Response(page_body(items, total, limit, offset))


class RegisteredModelDetailView(APIView):
    """Show one registered model."""

    @extend_schema(
        operation_id="get_registered_model",
        parameters=[NAME_PARAMETER],
        responses={200: RegisteredModelSerializer, **problems(404, 422)},
    )
    def get(self, request: Request, name: str) -> Response:
        """Return one registered model."""
        return Response(RegisteredModelSerializer(services.get_model(name)).data)


class VersionListView(APIView):
    """List a model's versions and register new ones."""

    @extend_schema(
        operation_id="list_versions",
        parameters=[NAME_PARAMETER, STAGE_PARAMETER, *PAGE_PARAMETERS],
        responses={
            200: inline_serializer(
                "ModelVersionPage",
                {
                    "name": serializers.CharField(),
                    "items": ModelVersionSerializer(many=True),
                    "total": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                    "offset": serializers.IntegerField(),
                },
            ),
            **problems(404, 422),
        },
    )
    def get(self, request: Request, name: str) -> Response:
        """List a model's versions, optionally only those in one stage."""
        limit, offset = page_of(request)
        stage = request.query_params.get("stage")
        rows, total = services.list_versions(name, stage=stage, limit=limit, offset=offset)
        items = ModelVersionSerializer(rows, many=True).data
        return Response(page_body(items, total, limit, offset, name=name))

    @extend_schema(
        operation_id="register_version",
        parameters=[NAME_PARAMETER],
        request=RegisterVersionSerializer,
        responses={201: ModelVersionSerializer, **problems(409, 502, 503, *BODY_ERRORS)},
    )
    def post(self, request: Request, name: str) -> Response:
        """Register the next version of a model (the model is created on first use)."""
        services.validate_name(name)
        new = valid(RegisterVersionSerializer(data=request.data)).to_new_version()
        version = services.register_version(name, new)
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(APIView):
    """Show one version of a model."""

    @extend_schema(
        operation_id="get_version",
        parameters=VERSION_PARAMETERS,
        responses={200: ModelVersionSerializer, **problems(404, 422)},
    )
    def get(self, request: Request, name: str, version: int) -> Response:
        """Return one version of a model."""
        return Response(ModelVersionSerializer(services.get_version(name, version)).data)


class TransitionView(APIView):
    """Move a version between stages."""

    @extend_schema(
        operation_id="transition_version",
        request=TransitionSerializer,
        responses={200: TransitionResultSerializer, **problems(404, 409, *BODY_ERRORS)},
        parameters=[*VERSION_PARAMETERS, ACTOR_PARAMETER],
    )
    def post(self, request: Request, name: str, version: int) -> Response:
        """Move a version to another stage."""
        data = valid(TransitionSerializer(data=request.data)).validated_data
        row, archived = services.transition_version(
            name,
            version,
            data["stage"],
            archive_existing=data["archive_existing"],
            actor=actor_of(request),
        )
        row.archived_versions = [old.version for old in archived]
        return Response(TransitionResultSerializer(row).data)


class TransitionHistoryView(APIView):
    """Show a version's stage-transition audit."""

    @extend_schema(
        operation_id="list_transitions",
        parameters=VERSION_PARAMETERS,
        responses={200: StageTransitionSerializer(many=True), **problems(404, 422)},
    )
    def get(self, request: Request, name: str, version: int) -> Response:
        """Return the stage-transition audit of a version, oldest first."""
        rows = services.transitions_of(name, version)
        return Response(StageTransitionSerializer(rows, many=True).data)


class LineageView(APIView):
    """Show a version's lineage."""

    @extend_schema(
        operation_id="get_lineage",
        parameters=VERSION_PARAMETERS,
        responses={200: LineageSerializer, **problems(404, 422)},
    )
    def get(self, request: Request, name: str, version: int) -> Response:
        """Return a version's ancestors via parent_version, nearest first."""
        return Response(LineageSerializer(services.lineage(name, version)).data)


RUN_ID_PARAMETER = OpenApiParameter(
    "run_id",
    {"type": "string", "minLength": 1, "maxLength": RUN_ID_MAX_LENGTH, "pattern": NO_CONTROL},
    required=True,
    description="the experiment run the versions were registered from",
)


class RunVersionListView(APIView):
    """List the versions registered from one experiment run."""

    @extend_schema(
        operation_id="list_run_versions",
        parameters=[RUN_ID_PARAMETER, *PAGE_PARAMETERS],
        responses={
            200: inline_serializer(
                "RunVersionPage",
                {
                    "run_id": serializers.CharField(),
                    "items": ModelVersionSerializer(many=True),
                    "total": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                    "offset": serializers.IntegerField(),
                },
            ),
            **problems(422),
        },
    )
    def get(self, request: Request) -> Response:
        """List the versions of every model registered from a run, by model name and version."""
        run_id = request.query_params.get("run_id") or ""
        if not run_id or len(run_id) > RUN_ID_MAX_LENGTH or NO_CONTROL_CHAR.search(run_id):
            message = f"run_id is 1-{RUN_ID_MAX_LENGTH} characters without control characters"
            error = {"loc": ["query", "run_id"], "msg": message, "type": "value_error"}
            raise ValidationError(message, details=[error])
        limit, offset = page_of(request)
        rows, total = services.versions_of_run(run_id, limit=limit, offset=offset)
        items = ModelVersionSerializer(rows, many=True).data
        return Response(page_body(items, total, limit, offset, run_id=run_id))


class VersionSearchView(APIView):
    """Search the model-versions index."""

    @extend_schema(
        operation_id="search_versions",
        parameters=[
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": MAX_QUERY_LENGTH, "pattern": NO_CONTROL},
                description="words of the name, stage or run id",
            ),
            OpenApiParameter("name", NAME_SCHEMA, description="exact model name"),
            STAGE_PARAMETER,
            OpenApiParameter(
                "size", integer(1, MAX_SEARCH_SIZE, DEFAULT_SEARCH_SIZE), description="hits"
            ),
        ],
        responses={
            200: inline_serializer(
                "VersionSearchResult",
                {
                    "total": serializers.IntegerField(),
                    "items": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **problems(422),
        },
    )
    def get(self, request: Request) -> Response:
        """Search the indexed model versions by words and exact name/stage filters."""
        params = request.query_params
        name, stage = params.get("name"), params.get("stage")
        if name is not None:
            services.validate_name(name)
        if stage is not None:
            services.parse_stage(stage)
        size = query_int(request, "size", DEFAULT_SEARCH_SIZE, 1, MAX_SEARCH_SIZE)
        result = registry_search.search_versions(
            text=search_text(params.get("q")), name=name, stage=stage, size=size
        )
        return Response({"total": result.total, "items": [hit.source for hit in result.hits]})


def search_text(text: str | None) -> str | None:
    """Return the search words, or raise ValidationError for control characters or length."""
    if not text:
        return None
    if len(text) > MAX_QUERY_LENGTH or NO_CONTROL_CHAR.search(text):
        message = f"q is at most {MAX_QUERY_LENGTH} characters without control characters"
        error = {"loc": ["query", "q"], "msg": message, "type": "value_error"}
        raise ValidationError(message, details=[error])
    return text
