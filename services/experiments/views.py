"""Experiments HTTP views: thin DRF wrappers over services.py, metrics.py and compare.py."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from services.django_project.openapi import BODY_ERRORS, problems
from services.django_project.parsers import DecimalJSONParser
from services.experiments import compare, metrics, services, versions
from services.experiments import search as experiment_search
from services.experiments.models import Run, RunStatus
from services.experiments.serializers import (
    ArtifactSerializer,
    CompareSerializer,
    EndRunSerializer,
    ExperimentSerializer,
    ForkSerializer,
    MetricBatchSerializer,
    MetricPointSerializer,
    ParamsSerializer,
    RunSerializer,
    StartRunSerializer,
    TagsSerializer,
)
from shared.errors import ValidationError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1
DEFAULT_SEARCH_SIZE = 20
MAX_SEARCH_SIZE = 100
ORDER_FIELDS = ("started_at", "finished_at", "name", "seed")
# The orderings a run listing accepts, each made total by the run's id (stable pages).
# Runs without a value (a running run's finished_at) come last either way.
RUN_ORDERINGS = {
    **{f: (F(f).asc(nulls_last=True), F("id").asc()) for f in ORDER_FIELDS},
    **{f"-{f}": (F(f).desc(nulls_last=True), F("id").desc()) for f in ORDER_FIELDS},
}
LIST_QUERY_KEYS = frozenset(
    {"experiment", "status", "finished_after", "finished_before", "order_by", "limit", "offset"}
)
RUN_RELATIONS = ("params", "tags")
RUN_ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
RUN_PARAMETER = OpenApiParameter("run_id", RUN_ID_SCHEMA, OpenApiParameter.PATH)
TIME_SCHEMA = {"type": "string", "format": "date-time"}
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.\-/]{1,128}")
MAX_QUERY_LENGTH = 256
NO_CONTROL_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_SEARCH_FILTERS = 10
METRIC_FILTER = re.compile(r"([A-Za-z0-9_.\-/]{1,128})(>=|<=|=|>|<)(.+)")


def integer(low: int, high: int, default: int | None = None) -> dict[str, object]:
    """Return the OpenAPI schema of an integer in [low, high]."""
    schema: dict[str, object] = {"type": "integer", "minimum": low, "maximum": high}
    return schema if default is None else {**schema, "default": default}


def valid(serializer: serializers.Serializer) -> serializers.Serializer:
    """Validate a serializer, raising DRF's ValidationError (rendered as a 422)."""
    serializer.is_valid(raise_exception=True)
    return serializer


def query_int(request: Request, key: str, default: int, low: int, high: int) -> int:
    """Return an integer query parameter in [low, high], or raise ValidationError."""
    raw = request.query_params.get(key)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise query_error(key, f"{key} must be an integer from {low} to {high}")
    return value


def search_text(text: str | None) -> str | None:
    """Return the search words, or raise ValidationError for control characters or length."""
    if not text:
        return None
    if len(text) > MAX_QUERY_LENGTH or NO_CONTROL_CHAR.search(text):
        message = f"q is at most {MAX_QUERY_LENGTH} characters without control characters"
        raise query_error("q", message)
    return text


def page_of(request: Request) -> tuple[int, int]:
    """Return (limit, offset) from the query string, or raise ValidationError."""
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return limit, query_int(request, "offset", 0, 0, MAX_OFFSET)


def query_error(key: str, message: str) -> ValidationError:
    """Return the 422 of a bad query parameter."""
    return ValidationError(message, details=[{"loc": ["query", key], "msg": message}])


def query_datetime(request: Request, key: str) -> datetime | None:
    """Return an aware query-string timestamp in UTC; naive times are refused."""
    raw = request.query_params.get(key)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise query_error(key, f"{key} must be an ISO 8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise query_error(key, f"{key} needs a time zone offset (Z or +hh:mm)")
    return parsed.astimezone(UTC)


def ordering_of(request: Request) -> tuple[OrderBy, ...]:
    """Return the validated ordering of a run listing."""
    raw = request.query_params.get("order_by", "started_at")
    if raw not in RUN_ORDERINGS:
        raise query_error("order_by", f"order_by must be one of {sorted(RUN_ORDERINGS)}")
    return RUN_ORDERINGS[raw]


def filtered_runs(request: Request) -> QuerySet[Run]:
    """Return the runs the listing's filters select (unknown filters are refused)."""
    params = request.query_params
    unknown = sorted(set(params) - LIST_QUERY_KEYS)
    if unknown:
        raise query_error(unknown[0], f"unknown filter {unknown[0]!r}")
    rows = services.run_rows()
    if (name := params.get("experiment")) is not None:
        rows = rows.filter(experiment__name=services.validate_name(name))
    if (state := params.get("status")) is not None:
        if state not in RunStatus.values:
            raise query_error("status", f"status must be one of {RunStatus.values}")
        rows = rows.filter(status=state)
    if (after := query_datetime(request, "finished_after")) is not None:
        rows = rows.filter(finished_at__gt=after)
    if (before := query_datetime(request, "finished_before")) is not None:
        rows = rows.filter(finished_at__lt=before)
    return rows


def run_page(rows: QuerySet[Run], limit: int, offset: int) -> list[Run]:
    """Return one page of runs with everything their rendering reads."""
    page = rows.select_related("experiment", "parent").prefetch_related(*RUN_RELATIONS)
    return list(page[offset : offset + limit])


def page_body(items: list, total: int, limit: int, offset: int) -> dict[str, Any]:
    """Return the platform's page shape."""
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def run_body(run: Run, code: int = status.HTTP_200_OK) -> Response:
    """Return a run's representation."""
    return Response(RunSerializer(run).data, status=code)


PAGE_PARAMETERS = [
    OpenApiParameter("limit", integer(1, MAX_LIMIT, DEFAULT_LIMIT), description="page size"),
    OpenApiParameter("offset", integer(0, MAX_OFFSET, 0), description="items to skip"),
]
RUN_PAGE = inline_serializer(
    "RunPage",
    {
        "items": RunSerializer(many=True),
        "total": serializers.IntegerField(),
        "limit": serializers.IntegerField(),
        "offset": serializers.IntegerField(),
    },
)


def search_filters(request: Request, key: str) -> list[str]:
    """Return the values of a repeatable search filter, at most MAX_SEARCH_FILTERS of them."""
    values = request.query_params.getlist(key)
    if len(values) > MAX_SEARCH_FILTERS:
        raise query_error(key, f"at most {MAX_SEARCH_FILTERS} {key} filters")
    for value in values:
        if len(value) > MAX_QUERY_LENGTH or NO_CONTROL_CHAR.search(value):
            message = f"{key} is at most {MAX_QUERY_LENGTH} characters without control characters"
            raise query_error(key, message)
    return values


def pair_filter(key: str, raw: str) -> experiment_search.PairFilter:
    """Return the ``<key>:<value>`` filter of a param or tag, or raise ValidationError."""
    name, colon, value = raw.partition(":")
    if not colon or not KEY_PATTERN.fullmatch(name):
        raise query_error(key, f"{key} filters are <key>:<value>, the key a {key} key")
    text = experiment_search.canonical_text(value) if key == "param" else value
    return experiment_search.PairFilter(name, text)


def metric_filter(raw: str) -> experiment_search.MetricFilter:
    """Return a ``<key><op><number>`` metric filter (op =, >=, >, <=, <), or raise."""
    found = METRIC_FILTER.fullmatch(raw)
    if found is None or not experiment_search.JSON_NUMBER.fullmatch(found[3]):
        raise query_error("metric", "metric filters are <key><op><number>, op =, >=, >, <= or <")
    number = Decimal(found[3])
    if not math.isfinite(float(number)):
        raise query_error("metric", "metric filters compare with a finite number")
    return experiment_search.MetricFilter(found[1], found[2], number)


class ExperimentListView(APIView):
    """List experiments and create them."""

    @extend_schema(
        operation_id="list_experiments",
        parameters=PAGE_PARAMETERS,
        responses={
            200: inline_serializer(
                "ExperimentPage",
                {
                    "items": ExperimentSerializer(many=True),
                    "total": serializers.IntegerField(),
                    "limit": serializers.IntegerField(),
                    "offset": serializers.IntegerField(),
                },
            ),
            **problems(422),
        },
    )
    def get(self, request: Request) -> Response:
        """List experiments by name."""
        limit, offset = page_of(request)
        rows = services.list_experiments()
        items = ExperimentSerializer(rows[offset : offset + limit], many=True).data
        return Response(page_body(items, rows.count(), limit, offset))

    @extend_schema(
        operation_id="create_experiment",
        request=ExperimentSerializer,
        responses={200: ExperimentSerializer, 201: ExperimentSerializer, **problems(*BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        """Create an experiment (200 with the existing one if the name is taken)."""
        data = valid(ExperimentSerializer(data=request.data)).validated_data
        row, created = services.create_experiment(data["name"], data["description"])
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ExperimentSerializer(row).data, status=code)


class ExperimentDetailView(APIView):
    """Show one experiment."""

    @extend_schema(
        operation_id="get_experiment",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
        responses={200: ExperimentSerializer, **problems(404, 422)},
    )
    def get(self, request: Request, name: str) -> Response:
        """Return one experiment."""
        return Response(ExperimentSerializer(services.get_experiment(name)).data)


class RunListView(APIView):
    """List runs (filtered, ordered, paginated) and start new ones."""

    parser_classes = (DecimalJSONParser,)

    @extend_schema(
        operation_id="list_runs",
        parameters=[
            OpenApiParameter("experiment", str, description="experiment name"),
            OpenApiParameter("status", str, enum=list(RunStatus.values)),
            OpenApiParameter("finished_after", TIME_SCHEMA, description="with an offset"),
            OpenApiParameter("finished_before", TIME_SCHEMA, description="with an offset"),
            OpenApiParameter("order_by", str, enum=sorted(RUN_ORDERINGS)),
            *PAGE_PARAMETERS,
        ],
        responses={200: RUN_PAGE, **problems(422)},
    )
    def get(self, request: Request) -> Response:
        """List runs matching the filters, a page at a time."""
        limit, offset = page_of(request)
        rows = filtered_runs(request).order_by(*ordering_of(request))
        items = RunSerializer(run_page(rows, limit, offset), many=True).data
        return Response(page_body(items, rows.count(), limit, offset))

    @extend_schema(
        operation_id="start_run",
        request=StartRunSerializer,
        responses={201: RunSerializer, **problems(*BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        """Start a run of an experiment (created on first use)."""
        serializer = valid(StartRunSerializer(data=request.data))
        run = services.start_run(serializer.validated_data["experiment"], serializer.to_new_run())
        return run_body(run, status.HTTP_201_CREATED)


class RunDetailView(APIView):
    """Show one run."""

    @extend_schema(
        operation_id="get_run",
        parameters=[RUN_PARAMETER],
        responses={200: RunSerializer, **problems(404)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        """Return one run with its params and tags."""
        return run_body(services.get_run(run_id))


class RunVersionsView(APIView):
    """List the model versions registered from a run."""

    @extend_schema(
        operation_id="list_run_model_versions",
        parameters=[RUN_PARAMETER],
        responses={
            200: inline_serializer(
                "RunModelVersions",
                {
                    "run_id": serializers.CharField(),
                    "items": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **problems(404, 502, 503),
        },
    )
    def get(self, request: Request, run_id: str) -> Response:
        """Return the name, version and stage of each version the registry holds for the run."""
        items = versions.versions_of_run(run_id)
        return Response({"run_id": run_id, "items": items})


class EndRunView(APIView):
    """End a run as finished or failed."""

    @extend_schema(
        operation_id="end_run",
        parameters=[RUN_PARAMETER],
        request=EndRunSerializer,
        responses={200: RunSerializer, **problems(404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """End a running run."""
        data = valid(EndRunSerializer(data=request.data)).validated_data
        return run_body(services.end_run(run_id, data["status"], data.get("finished_at")))


class ParamsView(APIView):
    """Add params to a running run."""

    parser_classes = (DecimalJSONParser,)

    @extend_schema(
        operation_id="log_params",
        parameters=[RUN_PARAMETER],
        request=ParamsSerializer,
        responses={200: RunSerializer, **problems(404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Add params; a key already set to another value is a 409."""
        data = valid(ParamsSerializer(data=request.data)).validated_data
        return run_body(services.log_params(run_id, data["params"]))


class TagsView(APIView):
    """Set tags of a run."""

    @extend_schema(
        operation_id="set_tags",
        parameters=[RUN_PARAMETER],
        request=TagsSerializer,
        responses={200: RunSerializer, **problems(404, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Set tags (existing keys take the new value)."""
        data = valid(TagsSerializer(data=request.data)).validated_data
        return run_body(services.set_tags(run_id, data["tags"]))


class MetricsView(APIView):
    """Log batches of metric points and read a metric's history."""

    parser_classes = (DecimalJSONParser,)

    @extend_schema(
        operation_id="get_metric_history",
        parameters=[RUN_PARAMETER, OpenApiParameter("key", str, required=True)],
        responses={200: MetricPointSerializer(many=True), **problems(404, 422)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        """Return one metric's points in step order."""
        key = request.query_params.get("key", "")
        if not KEY_PATTERN.fullmatch(key):
            raise query_error("key", "key names a metric: letters, digits, '_', '.', '-', '/'")
        return Response(MetricPointSerializer(metrics.history(run_id, key), many=True).data)

    @extend_schema(
        operation_id="log_metrics",
        parameters=[RUN_PARAMETER],
        request=MetricBatchSerializer,
        responses={
            201: inline_serializer("LoggedBatch", {"logged": serializers.IntegerField()}),
            **problems(404, 409, *BODY_ERRORS),
        },
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Append a batch of points, all or nothing."""
        points = valid(MetricBatchSerializer(data=request.data)).to_points()
        rows = metrics.log_batch(run_id, points, attempts=metrics.LOG_ATTEMPTS)
        return Response({"logged": len(rows)}, status=status.HTTP_201_CREATED)


class ForkView(APIView):
    """Fork a run."""

    parser_classes = (DecimalJSONParser,)

    @extend_schema(
        operation_id="fork_run",
        parameters=[RUN_PARAMETER],
        request=ForkSerializer,
        responses={201: RunSerializer, **problems(404, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Start a fork: params copied (overrides applied), the parent's seed unless given."""
        new = valid(ForkSerializer(data=request.data)).to_new_run()
        run = services.fork_run(run_id, new, keep_seed=new.seed is None)
        return run_body(run, status.HTTP_201_CREATED)


class LineageView(APIView):
    """Show a run's ancestors."""

    @extend_schema(
        operation_id="get_run_lineage",
        parameters=[RUN_PARAMETER],
        responses={200: RunSerializer(many=True), **problems(404)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        """Return the run's ancestors, nearest first."""
        chain = services.lineage(run_id)
        found = {run.pk: run for run in run_page(Run.objects.filter(pk__in=chain), len(chain), 0)}
        return Response(RunSerializer([found[pk] for pk in chain], many=True).data)


class ArtifactsView(APIView):
    """Record and list references to what a run produced."""

    @extend_schema(
        operation_id="list_artifacts",
        parameters=[RUN_PARAMETER],
        responses={200: ArtifactSerializer(many=True), **problems(404)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        """Return the run's artifact references by path."""
        return Response(ArtifactSerializer(services.artifacts_of(run_id), many=True).data)

    @extend_schema(
        operation_id="add_artifact",
        parameters=[RUN_PARAMETER],
        request=ArtifactSerializer,
        responses={201: ArtifactSerializer, **problems(404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Record a reference (the same path and URI again is a no-op)."""
        data = valid(ArtifactSerializer(data=request.data)).validated_data
        artifact = services.add_artifact(run_id, data["path"], data["uri"])
        return Response(ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED)


class CompareView(APIView):
    """Compare runs side by side."""

    @extend_schema(
        operation_id="compare_runs",
        request=CompareSerializer,
        responses={
            200: inline_serializer(
                "RunComparison",
                {
                    "run_ids": serializers.ListField(child=serializers.CharField()),
                    "params": serializers.ListField(child=serializers.DictField()),
                    "differing_params": serializers.ListField(child=serializers.CharField()),
                    "metrics": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **problems(404, *BODY_ERRORS),
        },
    )
    def post(self, request: Request) -> Response:
        """Return the params and final/best metrics of the runs, in the order named."""
        run_ids = valid(CompareSerializer(data=request.data)).validated_data["run_ids"]
        runs = [services.get_run(run_id) for run_id in run_ids]
        return Response(compare.compare_runs(runs))


class RunSearchView(APIView):
    """Search the runs index."""

    @extend_schema(
        operation_id="search_runs",
        parameters=[
            OpenApiParameter("q", str, description="words of the run's name or notes"),
            OpenApiParameter("experiment", str, description="exact experiment name"),
            OpenApiParameter("status", str, enum=list(RunStatus.values)),
            OpenApiParameter(
                "size", integer(1, MAX_SEARCH_SIZE, DEFAULT_SEARCH_SIZE), description="hits"
            ),
            OpenApiParameter(
                "param", str, many=True, description="<key>:<value>, numbers by exact value"
            ),
            OpenApiParameter("tag", str, many=True, description="<key>:<value>"),
            OpenApiParameter(
                "metric", str, many=True, description="<key><op><number>, op =, >=, >, <= or <"
            ),
        ],
        responses={
            200: inline_serializer(
                "RunSearchResult",
                {
                    "total": serializers.IntegerField(),
                    "items": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **problems(422),
        },
    )
    def get(self, request: Request) -> Response:
        """Search indexed runs by words and exact experiment/status/param/tag/metric filters."""
        params = request.query_params
        experiment, state = params.get("experiment"), params.get("status")
        if experiment is not None:
            services.validate_name(experiment)
        if state is not None and state not in RunStatus.values:
            raise query_error("status", f"status must be one of {RunStatus.values}")
        size = query_int(request, "size", DEFAULT_SEARCH_SIZE, 1, MAX_SEARCH_SIZE)
        result = experiment_search.search_runs(
            text=search_text(params.get("q")),
            experiment=experiment,
            status=state,
            size=size,
            params=[pair_filter("param", raw) for raw in search_filters(request, "param")],
            tags=[pair_filter("tag", raw) for raw in search_filters(request, "tag")],
            metrics=[metric_filter(raw) for raw in search_filters(request, "metric")],
        )
        return Response({"total": result.total, "items": [hit.source for hit in result.hits]})
