"""Registry HTTP views: thin DRF wrappers over services.py."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from services.registry import search as registry_search
from services.registry import services
from services.registry.serializers import (
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

PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"page size, 1-{MAX_LIMIT}"),
    OpenApiParameter("offset", int, description="items to skip"),
]


def page_of(request: Request) -> tuple[int, int]:
    """Return (limit, offset) from the query string, or raise ValidationError."""
    try:
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        raise ValidationError("limit and offset must be integers") from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ValidationError(f"limit must be 1-{MAX_LIMIT} and offset >= 0")
    return limit, offset


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
        responses=inline_serializer(
            "RegisteredModelPage",
            {
                "items": RegisteredModelSerializer(many=True),
                "total": serializers.IntegerField(),
                "limit": serializers.IntegerField(),
                "offset": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        """List registered models."""
        limit, offset = page_of(request)
        rows, total = services.list_models(limit=limit, offset=offset)
        items = RegisteredModelSerializer(rows, many=True).data
        return Response(page_body(items, total, limit, offset))


class RegisteredModelDetailView(APIView):
    """Show one registered model."""

    @extend_schema(operation_id="get_registered_model", responses=RegisteredModelSerializer)
    def get(self, request: Request, name: str) -> Response:
        """Return one registered model."""
        return Response(RegisteredModelSerializer(services.get_model(name)).data)


class VersionListView(APIView):
    """List a model's versions and register new ones."""

    @extend_schema(
        operation_id="list_versions",
        parameters=[
            OpenApiParameter("stage", str, enum=list(services.Stage.values)),
            *PAGE_PARAMETERS,
        ],
        responses=inline_serializer(
            "ModelVersionPage",
            {
                "name": serializers.CharField(),
                "items": ModelVersionSerializer(many=True),
                "total": serializers.IntegerField(),
                "limit": serializers.IntegerField(),
                "offset": serializers.IntegerField(),
            },
        ),
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
        request=RegisterVersionSerializer,
        responses={201: ModelVersionSerializer},
    )
    def post(self, request: Request, name: str) -> Response:
        """Register the next version of a model (the model is created on first use)."""
        services.validate_name(name)
        new = valid(RegisterVersionSerializer(data=request.data)).to_new_version()
        version = services.register_version(name, new)
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(APIView):
    """Show one version of a model."""

    @extend_schema(operation_id="get_version", responses=ModelVersionSerializer)
    def get(self, request: Request, name: str, version: int) -> Response:
        """Return one version of a model."""
        return Response(ModelVersionSerializer(services.get_version(name, version)).data)


class TransitionView(APIView):
    """Move a version between stages."""

    @extend_schema(
        operation_id="transition_version",
        request=TransitionSerializer,
        responses=TransitionResultSerializer,
        parameters=[OpenApiParameter("X-Actor", str, OpenApiParameter.HEADER)],
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

    @extend_schema(operation_id="list_transitions", responses=StageTransitionSerializer(many=True))
    def get(self, request: Request, name: str, version: int) -> Response:
        """Return the stage-transition audit of a version, oldest first."""
        rows = services.transitions_of(name, version)
        return Response(StageTransitionSerializer(rows, many=True).data)


class LineageView(APIView):
    """Show a version's lineage."""

    @extend_schema(operation_id="get_lineage", responses=LineageSerializer)
    def get(self, request: Request, name: str, version: int) -> Response:
        """Return a version's ancestors via parent_version, nearest first."""
        return Response(LineageSerializer(services.lineage(name, version)).data)


class VersionSearchView(APIView):
    """Search the model-versions index."""

    @extend_schema(
        operation_id="search_versions",
        parameters=[
            OpenApiParameter("q", str, description="words of the name, stage or run id"),
            OpenApiParameter("name", str, description="exact model name"),
            OpenApiParameter("stage", str, enum=list(services.Stage.values)),
            OpenApiParameter("size", int, description=f"hits to return, 1-{MAX_SEARCH_SIZE}"),
        ],
        responses=inline_serializer(
            "VersionSearchResult",
            {
                "total": serializers.IntegerField(),
                "items": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        """Search the indexed model versions by words and exact name/stage filters."""
        params = request.query_params
        name, stage = params.get("name"), params.get("stage")
        if name is not None:
            services.validate_name(name)
        if stage is not None:
            services.parse_stage(stage)
        try:
            size = int(params.get("size", DEFAULT_SEARCH_SIZE))
        except ValueError:
            raise ValidationError("size must be an integer") from None
        if not 1 <= size <= MAX_SEARCH_SIZE:
            raise ValidationError(f"size must be 1-{MAX_SEARCH_SIZE}")
        result = registry_search.search_versions(
            text=params.get("q") or None, name=name, stage=stage, size=size
        )
        return Response({"total": result.total, "items": [hit.source for hit in result.hits]})
