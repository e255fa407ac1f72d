"""Feature store HTTP views: entities, feature views, offline rows, online store, training sets.

The offline store is the ORM (``FeatureRow``); the online store is the shared cache port, one
JSON entry per entity and view (``features:online:<view>:<key>``) holding the transformed values,
their event time and the view version. Backfills and materialisations of one view exclude each
other through the shared locks port; an online entry is only ever replaced by a newer one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from services.django_project.parsers import DecimalJSONParser
from services.django_project.routers import database_for
from services.features.models import (
    NAME_MAX_LENGTH,
    Entity,
    FeatureRow,
    FeatureVersion,
    FeatureView,
    Materialization,
)
from shared.backends import get_bus, get_cache, get_locks
from shared.cache.base import Cache
from shared.errors import ConflictError, NotFoundError, ServiceUnavailableError, ValidationError
from shared.events.schema import EventType, make_event, publish_event
from shared.ml import feature_utils
from shared.tracing import current_correlation_id
from shared.utils.distributed import DistributedLock
from shared.utils.timeutils import isoformat

SOURCE = "features"
DB = database_for("features")
MAX_ROWS = 1000
MAX_ENTITY_ROWS = 10_000
MAX_FEATURES = 256
MAX_TTL_SECONDS = 366 * 24 * 3600
LOCK_TTL = 300.0
ONLINE_PREFIX = "features:online"
logger = logging.getLogger(__name__)


# --- request reading -------------------------------------------------------------------------


def body_object(request: Request, *required: str) -> dict[str, Any]:
    """Return the request body as an object holding the required keys, or raise 422."""
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object")
    missing = [key for key in required if key not in data]
    if missing:
        raise ValidationError(f"missing fields: {', '.join(missing)}", details={"missing": missing})
    return data


def text(value: Any, field: str, max_length: int = NAME_MAX_LENGTH) -> str:
    """Return a non-empty visible string of at most max_length characters, or raise 422."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValidationError(f"{field} must be a string of 1 to {max_length} characters")
    if any(c.isspace() or ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ValidationError(f"{field} must not contain whitespace or control characters")
    return value


def timestamp(value: Any, field: str) -> datetime:
    """Return an ISO 8601 timestamp string as an aware datetime (its offset kept)."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be an ISO 8601 timestamp string")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field} must be an ISO 8601 timestamp") from None


def entity_time(value: Any, field: str) -> datetime:
    """Return an entity row's event time in UTC; naive times are refused."""
    parsed = timestamp(value, field)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationError(f"{field} needs a time zone offset (Z or +hh:mm)")
    return parsed.astimezone(UTC)


def row_time(value: Any, field: str) -> datetime:
    """Return an offline row's event time in UTC; naive times are refused."""
    try:
        return feature_utils.utc_instant(timestamp(value, field))
    except ValidationError as exc:
        raise ValidationError(f"{field}: {exc.message}") from None


def get_view(name: str) -> FeatureView:
    """Return a feature view by name, or raise 404."""
    view = FeatureView.objects.select_related("entity").filter(name=name).first()
    if view is None:
        raise NotFoundError(f"feature view {name!r} not found")
    return view


def latest_version(view: FeatureView) -> FeatureVersion:
    """Return the newest schema of a view."""
    version = view.versions.order_by("-version").first()
    assert version is not None
    return version


def feature_specs(raw: Any) -> list[dict[str, Any]]:
    """Return validated feature definitions: name, dtype and transform chain."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_FEATURES:
        raise ValidationError(f"features must be a list of 1 to {MAX_FEATURES} definitions")
    specs, seen = [], set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not {"name", "dtype"} <= set(item):
            raise ValidationError(f"feature {index} needs a name and a dtype")
        unknown = set(item) - {"name", "dtype", "transforms"}
        if unknown:
            raise ValidationError(f"feature {index} has unknown fields {sorted(unknown)}")
        name = text(item["name"], f"features[{index}].name")
        if ":" in name or name in seen:
            raise ValidationError(f"feature name {name!r} is repeated or contains ':'")
        seen.add(name)
        if item["dtype"] not in feature_utils.DTYPES:
            raise ValidationError(f"dtype must be one of {list(feature_utils.DTYPES)}")
        chain = feature_utils.validate_chain(item.get("transforms", []))
        if chain and item["dtype"] not in feature_utils.NUMERIC_DTYPES:
            raise ValidationError(f"feature {name!r}: only numeric features take transforms")
        specs.append({"name": name, "dtype": item["dtype"], "transforms": _plain(chain)})
    return specs


def _plain(value: Any) -> Any:
    # JSONField cannot store Decimal: numbers are kept as their exact text.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _chain(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v if k == "op" or isinstance(v, int) else Decimal(v) for k, v in step.items()}
        for step in spec["transforms"]
    ]


# --- values ------------------------------------------------------------------------------------


def stored_values(values: Any, specs: list[dict[str, Any]], where: str) -> dict[str, Any]:
    """Validate a row's values against the schema; return them as storable exact text."""
    if not isinstance(values, dict):
        raise ValidationError(f"{where}.values must be an object")
    dtypes = {spec["name"]: spec["dtype"] for spec in specs}
    unknown = sorted(set(values) - set(dtypes))
    if unknown:
        raise ValidationError(f"{where} has unknown features {unknown}", details=unknown)
    stored = {}
    for name, value in values.items():
        try:
            exact = feature_utils.exact(value, dtypes[name])
        except ValidationError as exc:
            raise ValidationError(f"{where}.values.{name}: {exc.message}") from None
        stored[name] = str(exact) if isinstance(exact, Decimal) else exact
    return stored


def served_value(raw: Any, spec: dict[str, Any]) -> Any:
    """Return a stored value transformed by its chain, as the API shows it.

    Decimals are shown as their exact text, 64-bit integers as integers, float64 as numbers.
    """
    if raw is None:
        return None
    if spec["dtype"] not in feature_utils.NUMERIC_DTYPES:
        return raw
    value = feature_utils.apply_chain(Decimal(str(raw)), _chain(spec))
    if spec["dtype"] == "float64":
        return float(value)
    if spec["dtype"] == "int64" and value == value.to_integral_value():
        return int(value)
    return str(value)


def remaining_ttl(view: FeatureView, instant: datetime, now: datetime) -> float:
    """Return how many seconds a value observed at ``instant`` stays fresh after ``now``."""
    return view.online_ttl_seconds - (now - instant).total_seconds()


def history(
    view: FeatureView, keys: Iterable[str] | None, until: datetime
) -> dict[str, list[FeatureRow]]:
    """Return each entity's rows up to ``until``, oldest event first."""
    rows = FeatureRow.objects.filter(view=view, event_time__lte=until)
    if keys is not None:
        rows = rows.filter(entity_key__in=sorted(set(keys)))
    grouped: dict[str, list[FeatureRow]] = defaultdict(list)
    for row in rows.order_by("entity_key", "event_time"):
        grouped[row.entity_key].append(row)
    return grouped


def as_of(rows: list[FeatureRow], moment: datetime) -> FeatureRow | None:
    """Return the last of an entity's rows at or before ``moment``."""
    index = feature_utils.latest_at_or_before([row.event_time for row in rows], moment)
    return None if index is None else rows[index]


def view_values(row: FeatureRow | None, specs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return a row's served values for every feature of the schema (absent ones are null)."""
    if row is None:
        return None
    return {spec["name"]: served_value(row.values.get(spec["name"]), spec) for spec in specs}


# --- online store ------------------------------------------------------------------------------


def online_key(view: FeatureView, entity_key: str) -> str:
    """Return the cache key of one entity's online entry."""
    return f"{ONLINE_PREFIX}:{view.name}:{entity_key}"


def write_online(cache: Cache, key: str, entry: dict[str, Any], ttl: float) -> bool:
    """Store an online entry unless the cache holds a newer one; return whether it was stored."""
    current = cache.get_json(key)
    if current is not None and current["event_us"] > entry["event_us"]:
        return False
    cache.set_json(key, entry, ttl=ttl)
    return True


def online_entry(view: FeatureView, version: FeatureVersion, row: FeatureRow) -> dict[str, Any]:
    """Return the online entry of a row: served values, event time and schema version."""
    instant = row.event_time.astimezone(UTC)
    return {
        "values": view_values(row, version.features),
        "event_time": isoformat(instant),
        "event_us": int(instant.timestamp() * 1_000_000),
        "version": version.version,
    }


def hold(view: FeatureView) -> DistributedLock:
    """Take the view's backfill/materialisation lock, or raise 409 while another holds it."""
    lock = get_locks()(f"features:view:{view.name}", ttl=LOCK_TTL)
    if not lock.acquire(timeout=0):
        raise ConflictError(f"feature view {view.name!r} is being backfilled or materialised")
    return lock


def upsert_rows(view: FeatureView, rows: Any, specs: list[dict[str, Any]]) -> list[FeatureRow]:
    """Validate a batch of rows and store it; a row at an existing (key, time) replaces it."""
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ROWS:
        raise ValidationError(f"rows must be a list of 1 to {MAX_ROWS} rows")
    parsed: dict[tuple[str, datetime], FeatureRow] = {}
    for index, item in enumerate(rows):
        where = f"rows[{index}]"
        if not isinstance(item, dict) or set(item) != {"entity_key", "event_time", "values"}:
            raise ValidationError(f"{where} must hold entity_key, event_time and values")
        key = text(item["entity_key"], f"{where}.entity_key", 256)
        moment = row_time(item["event_time"], f"{where}.event_time")
        values = stored_values(item["values"], specs, where)
        parsed[(key, moment)] = FeatureRow(
            view=view, entity_key=key, event_time=moment, values=values
        )
    with transaction.atomic(using=DB):
        for (key, moment), row in parsed.items():
            FeatureRow.objects.update_or_create(
                view=view, entity_key=key, event_time=moment, defaults={"values": row.values}
            )
    return list(parsed.values())


def _published(view: FeatureView, data: dict[str, Any]) -> None:
    def send() -> None:
        event = make_event(
            EventType.FEATURES_MATERIALIZED,
            data,
            source=SOURCE,
            correlation_id=current_correlation_id(),
        )
        publish_event(get_bus(), event)
        logger.info("published %s for %s", EventType.FEATURES_MATERIALIZED.value, view.name)

    transaction.on_commit(send, using=DB, robust=True)


def view_body(view: FeatureView) -> dict[str, Any]:
    """Return a view's representation with its newest schema and version list."""
    versions = list(view.versions.order_by("version"))
    return {
        "name": view.name,
        "entity": view.entity.name,
        "join_key": view.entity.join_key,
        "owner": view.owner,
        "online_ttl_seconds": view.online_ttl_seconds,
        "version": versions[-1].version,
        "features": versions[-1].features,
        "versions": [v.version for v in versions],
        "created_at": isoformat(view.created_at),
    }


def entity_body(entity: Entity) -> dict[str, Any]:
    """Return an entity's representation."""
    return {
        "name": entity.name,
        "join_key": entity.join_key,
        "description": entity.description,
        "created_at": isoformat(entity.created_at),
    }


# --- views -------------------------------------------------------------------------------------


class FeatureAPIView(APIView):
    """Base of the feature store's views: platform problems, JSON bodies."""

    parser_classes = (DecimalJSONParser,)


class EntityListView(FeatureAPIView):
    """List and declare entities."""

    @extend_schema(operation_id="list_entities", responses={200: dict})
    def get(self, request: Request) -> Response:
        """Return every entity."""
        return Response({"items": [entity_body(e) for e in Entity.objects.all()]})

    @extend_schema(operation_id="create_entity", request=dict, responses={201: dict})
    def post(self, request: Request) -> Response:
        """Declare an entity (409 if its name is taken)."""
        data = body_object(request, "name", "join_key")
        name, join_key = text(data["name"], "name"), text(data["join_key"], "join_key")
        description = data.get("description", "")
        if not isinstance(description, str) or len(description) > 4096:
            raise ValidationError("description must be a string of at most 4096 characters")
        try:
            with transaction.atomic(using=DB):
                entity = Entity.objects.create(
                    name=name, join_key=join_key, description=description
                )
        except IntegrityError:
            raise ConflictError(f"entity {name!r} exists") from None
        return Response(entity_body(entity), status=status.HTTP_201_CREATED)


class FeatureViewListView(FeatureAPIView):
    """List feature views and declare them (a changed schema is a new version)."""

    @extend_schema(operation_id="list_feature_views", responses={200: dict})
    def get(self, request: Request) -> Response:
        """Return every feature view with its newest schema."""
        views = FeatureView.objects.select_related("entity").prefetch_related("versions")
        return Response({"items": [view_body(v) for v in views]})

    @extend_schema(operation_id="declare_feature_view", request=dict, responses={201: dict})
    def post(self, request: Request) -> Response:
        """Create a view at version 1, or add a version when its features change."""
        data = body_object(request, "name", "entity", "owner", "online_ttl_seconds", "features")
        name = text(data["name"], "name")
        owner = text(data["owner"], "owner")
        ttl = data["online_ttl_seconds"]
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL_SECONDS:
            raise ValidationError(
                f"online_ttl_seconds must be an integer from 1 to {MAX_TTL_SECONDS}"
            )
        specs = feature_specs(data["features"])
        entity = Entity.objects.filter(name=text(data["entity"], "entity")).first()
        if entity is None:
            raise NotFoundError(f"entity {data['entity']!r} not found")
        with transaction.atomic(using=DB):
            view, created = FeatureView.objects.select_for_update().get_or_create(
                name=name, defaults={"entity": entity, "owner": owner, "online_ttl_seconds": ttl}
            )
            if not created:
                if view.entity_id != entity.pk:
                    raise ConflictError(f"feature view {name!r} describes another entity")
                current = latest_version(view)
                view.owner, view.online_ttl_seconds = owner, ttl
                view.save(update_fields=["owner", "online_ttl_seconds"])
                if current.features == specs:
                    return Response(view_body(view))
                FeatureVersion.objects.create(
                    view=view, version=current.version + 1, features=specs
                )
            else:
                FeatureVersion.objects.create(view=view, version=1, features=specs)
        return Response(view_body(view), status=status.HTTP_201_CREATED)


class FeatureViewDetailView(FeatureAPIView):
    """One feature view."""

    @extend_schema(operation_id="get_feature_view", responses={200: dict})
    def get(self, request: Request, name: str) -> Response:
        """Return a view with its newest schema and version list."""
        return Response(view_body(get_view(name)))


class RowsView(FeatureAPIView):
    """Backfill a view's offline store (never while it is materialised)."""

    @extend_schema(operation_id="backfill_rows", request=dict, responses={201: dict})
    def post(self, request: Request, name: str) -> Response:
        """Store rows (upserted by entity key and event time); 409 during a materialisation."""
        view = get_view(name)
        data = body_object(request, "rows")
        specs = latest_version(view).features
        lock = hold(view)
        try:
            rows = upsert_rows(view, data["rows"], specs)
        finally:
            lock.release()
        return Response(
            {"feature_view": view.name, "rows": len(rows)}, status=status.HTTP_201_CREATED
        )


class MaterializeView(FeatureAPIView):
    """Copy each entity's latest fresh values into the online store."""

    @extend_schema(operation_id="materialize", request=dict, responses={200: dict})
    def post(self, request: Request, name: str) -> Response:
        """Materialise as of a moment (default now); 409 during a backfill, 503 without a cache."""
        view = get_view(name)
        data = body_object(request)
        moment = (
            entity_time(data["as_of"], "as_of") if data.get("as_of") is not None else timezone.now()
        )
        version = latest_version(view)
        cache = get_cache()
        lock = hold(view)
        try:
            written = 0
            with transaction.atomic(using=DB):
                for rows in history(view, None, moment).values():
                    row = as_of(rows, moment)
                    if row is None:
                        continue
                    ttl = remaining_ttl(view, row.event_time, moment)
                    if ttl <= 0:
                        continue
                    entry = online_entry(view, version, row)
                    if write_online(cache, online_key(view, row.entity_key), entry, ttl):
                        written += 1
                Materialization.objects.create(view=view, as_of=moment, rows=written)
                _published(
                    view,
                    {
                        "feature_view": view.name,
                        "rows": written,
                        "as_of": isoformat(moment),
                        "version": version.version,
                    },
                )
        finally:
            lock.release()
        return Response({"feature_view": view.name, "rows": written, "as_of": isoformat(moment)})


class OnlineView(FeatureAPIView):
    """Read and push online features of one view."""

    @extend_schema(operation_id="online_features", responses={200: dict})
    def get(self, request: Request, name: str) -> Response:
        """Return fresh values per entity; the offline store answers when the cache is down."""
        view = get_view(name)
        keys = request.query_params.getlist("entity_key")
        if not 1 <= len(keys) <= MAX_ROWS:
            raise ValidationError(f"give 1 to {MAX_ROWS} entity_key parameters")
        keys = [text(k, "entity_key", 256) for k in keys]
        version = latest_version(view)
        now = timezone.now()
        try:
            cache = get_cache()
            found = cache.get_many_json([online_key(view, k) for k in keys])
            entries = {k: found[online_key(view, k)] for k in keys}
            source = "online"
        except ServiceUnavailableError:
            logger.warning("online store unavailable; reading %s from the offline store", name)
            grouped = history(view, keys, now)
            entries = {}
            for key in keys:
                row = as_of(grouped.get(key, []), now)
                fresh = row is not None and remaining_ttl(view, row.event_time, now) > 0
                entries[key] = online_entry(view, version, row) if fresh and row else None
            source = "offline"
        items = []
        for key in keys:
            entry = entries[key]
            items.append(
                {
                    "entity_key": key,
                    "values": entry["values"] if entry else None,
                    "event_time": entry["event_time"] if entry else None,
                    "version": entry["version"] if entry else None,
                }
            )
        return Response({"feature_view": view.name, "source": source, "entities": items})

    @extend_schema(operation_id="push_online", request=dict, responses={201: dict})
    def post(self, request: Request, name: str) -> Response:
        """Store rows offline and online (newer wins); 409 during a backfill or materialisation."""
        view = get_view(name)
        data = body_object(request, "rows")
        version = latest_version(view)
        cache = get_cache()
        now = timezone.now()
        stored = 0
        lock = hold(view)
        try:
            rows = upsert_rows(view, data["rows"], version.features)
            for row in rows:
                ttl = remaining_ttl(view, row.event_time, now)
                entry = online_entry(view, version, row)
                if ttl > 0 and write_online(cache, online_key(view, row.entity_key), entry, ttl):
                    stored += 1
        finally:
            lock.release()
        return Response(
            {"feature_view": view.name, "rows": len(rows), "online": stored},
            status=status.HTTP_201_CREATED,
        )


def schema_version(view: FeatureView, number: Any) -> FeatureVersion:
    """Return the view's schema ``number`` (the newest when None), or raise 404."""
    if number is None:
        return latest_version(view)
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValidationError(f"versions.{view.name} must be a version number")
    version = view.versions.filter(version=number).first()
    if version is None:
        raise NotFoundError(f"version {number} of feature view {view.name!r} not found")
    return version


def requested_versions(raw: Any) -> dict[str, Any]:
    """Return the optional ``{view: version}`` pins of a training-set request."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_FEATURES:
        raise ValidationError("versions must be an object of view name to version number")
    return raw


def requested_features(
    raw: Any, pins: dict[str, Any] | None = None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """Return the requested "view:feature" specs grouped by view, and each view's version."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_FEATURES:
        raise ValidationError(f"features must be a list of 1 to {MAX_FEATURES} 'view:feature'")
    pins = pins or {}
    wanted: dict[str, list[dict[str, Any]]] = {}
    versions: dict[str, int] = {}
    for ref in raw:
        if not isinstance(ref, str) or ref.count(":") != 1:
            raise ValidationError(f"feature reference {ref!r} is not 'view:feature'")
        view_name, feature = ref.split(":")
        schema = schema_version(get_view(view_name), pins.get(view_name))
        specs = {s["name"]: s for s in schema.features}
        if feature not in specs:
            raise NotFoundError(f"feature {ref!r} not found")
        wanted.setdefault(view_name, []).append(specs[feature])
        versions[view_name] = schema.version
    return wanted, versions


class TrainingSetView(FeatureAPIView):
    """Point-in-time correct training sets."""

    @extend_schema(operation_id="training_set", request=dict, responses={200: dict})
    def post(self, request: Request) -> Response:
        """Join each entity row with every feature's latest fresh value at or before its time."""
        data = body_object(request, "entity_rows", "features")
        wanted, versions = requested_features(
            data["features"], requested_versions(data.get("versions"))
        )
        entity_rows = data["entity_rows"]
        if not isinstance(entity_rows, list) or not 1 <= len(entity_rows) <= MAX_ENTITY_ROWS:
            raise ValidationError(f"entity_rows must be a list of 1 to {MAX_ENTITY_ROWS} rows")
        asked = []
        for index, item in enumerate(entity_rows):
            if not isinstance(item, dict) or set(item) != {"entity_key", "event_time"}:
                raise ValidationError(f"entity_rows[{index}] must hold entity_key and event_time")
            key = text(item["entity_key"], f"entity_rows[{index}].entity_key", 256)
            asked.append((key, entity_time(item["event_time"], f"entity_rows[{index}].event_time")))
        latest = max(moment for _, moment in asked)
        values: list[dict[str, Any]] = [{} for _ in asked]
        for view_name, specs in wanted.items():
            view = get_view(view_name)
            grouped = history(view, [k for k, _ in asked], latest)
            for out, (key, moment) in zip(values, asked, strict=True):
                row = as_of(grouped.get(key, []), moment)
                if row is not None and remaining_ttl(view, row.event_time, moment) <= 0:
                    row = None
                for spec in specs:
                    raw = row.values.get(spec["name"]) if row is not None else None
                    out[f"{view_name}:{spec['name']}"] = served_value(raw, spec)
        rows = [
            {"entity_key": key, "event_time": isoformat(moment), "values": out}
            for (key, moment), out in zip(asked, values, strict=True)
        ]
        return Response({"features": data["features"], "versions": versions, "rows": rows})


def window(data: dict[str, Any], field: str) -> tuple[datetime, datetime]:
    """Return a [start, end) window from {"start": ..., "end": ...}."""
    raw = data.get(field)
    if not isinstance(raw, dict) or set(raw) != {"start", "end"}:
        raise ValidationError(f"{field} must be an object with start and end")
    start = entity_time(raw["start"], f"{field}.start")
    end = entity_time(raw["end"], f"{field}.end")
    if start >= end:
        raise ValidationError(f"{field}: start must be before end")
    return start, end


def numeric_columns(view: FeatureView, start: datetime, end: datetime) -> dict[str, list[Decimal]]:
    """Return each numeric feature's served values in a window (rows missing any are skipped)."""
    specs = [s for s in latest_version(view).features if s["dtype"] in feature_utils.NUMERIC_DTYPES]
    columns: dict[str, list[Decimal]] = {s["name"]: [] for s in specs}
    rows = FeatureRow.objects.filter(view=view, event_time__gte=start, event_time__lt=end)
    for row in rows.order_by("event_time", "entity_key"):
        raw = [row.values.get(s["name"]) for s in specs]
        if any(value is None for value in raw):
            continue
        for spec, value in zip(specs, raw, strict=True):
            columns[spec["name"]].append(
                feature_utils.apply_chain(Decimal(str(value)), _chain(spec))
            )
    return columns


class StatisticsView(FeatureAPIView):
    """Exact statistics of a view's numeric features over a window."""

    @extend_schema(operation_id="feature_statistics", request=dict, responses={200: dict})
    def post(self, request: Request, name: str) -> Response:
        """Return count, sum, mean, min and max per numeric feature (exact decimals as text)."""
        view = get_view(name)
        start, end = window(body_object(request, "window"), "window")
        columns = numeric_columns(view, start, end)
        stats = {n: feature_utils.summarize(values) for n, values in columns.items()}
        return Response({"feature_view": view.name, "features": stats})


class DriftView(FeatureAPIView):
    """PSI and KS drift of a view's numeric features between two windows."""

    @extend_schema(operation_id="feature_drift", request=dict, responses={200: dict})
    def post(self, request: Request, name: str) -> Response:
        """Compare a current window with a reference window; one alert per correlated group."""
        view = get_view(name)
        data = body_object(request, "reference", "current")
        reference = numeric_columns(view, *window(data, "reference"))
        current = numeric_columns(view, *window(data, "current"))
        if not reference or any(len(v) < 2 for v in (*reference.values(), *current.values())):
            raise ValidationError("drift needs at least two complete rows in each window")
        as_float = {n: [float(x) for x in v] for n, v in reference.items()}
        now_float = {n: [float(x) for x in v] for n, v in current.items()}
        report = feature_utils.drift_report(as_float, now_float)
        return Response({"feature_view": view.name, **report})
