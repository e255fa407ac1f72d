"""Field types, dynamic mapping and query matching with Elasticsearch's rules, in Python."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.errors import ValidationError

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
INTEGER_TYPES = frozenset({"long", "integer", "short", "byte"})
FLOAT_TYPES = frozenset({"double", "float", "half_float", "scaled_float"})
SORTABLE = INTEGER_TYPES | FLOAT_TYPES | {"keyword", "date", "boolean"}
# What Elasticsearch maps a new string to when dynamic mapping is on.
DYNAMIC_STRING: dict[str, Any] = {
    "type": "text",
    "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
}


def analyze(text: str) -> list[str]:
    """Split text into lower-case word tokens, as the standard analyzer does."""
    return _TOKEN_RE.findall(str(text).lower())


def parse_date(value: Any) -> datetime:
    """Parse an ISO 8601 date or date-time (naive means UTC) or epoch milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValidationError(f"failed to parse date field value {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def coerce(field_type: str, value: Any) -> Any:
    """Return value as the field type indexes it, or raise ValidationError (a mapping error)."""
    try:
        return _coerce(field_type, value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"cannot index {value!r} as {field_type}: {exc}") from None


def _coerce(field_type: str, value: Any) -> Any:
    if isinstance(value, Mapping | list):
        raise TypeError("expected a single value")
    if field_type in ("keyword", "text"):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if field_type == "boolean":
        if isinstance(value, bool) or value in ("true", "false"):
            return value if isinstance(value, bool) else value == "true"
        raise TypeError("not a boolean")
    if field_type == "date":
        return parse_date(value)
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers")
    number = float(value)
    if field_type in INTEGER_TYPES:
        if not number.is_integer():
            raise TypeError("not an integer")
        return int(number)
    if field_type in FLOAT_TYPES:
        return number
    raise TypeError(f"unsupported field type {field_type!r}")


def dynamic_spec(value: Any) -> dict[str, Any]:
    """Return the mapping Elasticsearch infers for a new field from its first value."""
    if isinstance(value, list):
        first = next((v for v in value if v is not None), None)
        return dynamic_spec(first) if first is not None else {}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "long"}
    if isinstance(value, float):
        return {"type": "float"}
    if isinstance(value, Mapping):
        return {"properties": {}}
    if isinstance(value, str) and _DATE_RE.match(value):
        return {"type": "date"}
    return {"type": "text", "fields": {"keyword": dict(DYNAMIC_STRING["fields"]["keyword"])}}


def resolve_field(mapping: Mapping[str, Any], path: str) -> tuple[str, list[str]] | None:
    """Return (type, path in the source) of a field or multi-field, or None when unmapped."""
    parts, props, spec = path.split("."), mapping.get("properties", {}), None
    for i, part in enumerate(parts):
        if spec is not None and part in spec.get("fields", {}) and i == len(parts) - 1:
            return spec["fields"][part]["type"], parts[:i]
        spec = props.get(part)
        if spec is None:
            return None
        props = spec.get("properties", {})
    if spec is None or "type" not in spec:
        return None
    return spec["type"], parts


def nested_path(mapping: Mapping[str, Any], path: str) -> str | None:
    """Return the path of the innermost nested object a field lies under, if any."""
    parts, props, found = path.split("."), mapping.get("properties", {}), None
    for i, part in enumerate(parts[:-1]):
        spec = props.get(part)
        if spec is None:
            return found
        if spec.get("type") == "nested":
            found = ".".join(parts[: i + 1])
        props = spec.get("properties", {})
    return found


def source_values(source: Mapping[str, Any], path: list[str]) -> Iterator[Any]:
    """Yield every non-null value at a dotted path, flattening arrays."""
    nodes: list[Any] = [source]
    for part in path:
        nodes = [n.get(part) for n in _flatten(nodes) if isinstance(n, Mapping)]
    yield from (v for v in _flatten(nodes) if v is not None)


def _flatten(values: list[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def indexed_terms(field_type: str, values: Iterator[Any]) -> list[Any]:
    """Return what the index holds for a field's values: tokens for text, typed values else."""
    if field_type == "text":
        return [token for value in values for token in analyze(value)]
    return [coerce(field_type, value) for value in values]


def _query_value(field_type: str, value: Any) -> Any:
    return str(value) if field_type == "text" else coerce(field_type, value)


def _field_clause(body: Mapping[str, Any], key: str) -> tuple[str, Any]:
    if not isinstance(body, Mapping) or len(body) != 1:
        raise ValidationError("a field clause names exactly one field")
    ((field_name, spec),) = body.items()
    if isinstance(spec, Mapping) and key in spec:
        return field_name, spec
    return field_name, {key: spec}


def matches(
    query: Mapping[str, Any],
    source: Mapping[str, Any],
    mapping: Mapping[str, Any],
    nested: str | None = None,
) -> bool:
    """Return whether a document's source matches one query clause under the mapping.

    ``nested`` is the path of the nested query being evaluated: a field under a nested object
    matches only inside a nested query of that object, as in Elasticsearch.
    """
    ((kind, body),) = query.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        return _bool(body, source, mapping, nested)
    if kind == "nested":
        return _nested(body, source, mapping)
    key = {"term": "value", "terms": "values", "match": "query", "range": "range"}.get(kind)
    if key is None:
        raise ValidationError(f"unsupported query clause {kind!r}")
    field_name, spec = _field_clause(body if kind != "terms" else _terms(body), key)
    if nested_path(mapping, field_name) != nested:
        return False
    resolved = resolve_field(mapping, field_name)
    if resolved is None:
        return False
    field_type, path = resolved
    have = indexed_terms(field_type, source_values(source, path))
    if kind in ("term", "terms"):
        wanted = spec["value"] if kind == "term" else spec["values"]
        wanted = wanted if isinstance(wanted, list) else [wanted]
        return any(_query_value(field_type, w) in have for w in wanted)
    if kind == "match":
        return _match(field_type, spec, have)
    return _range(field_type, body[field_name], have)


def _nested(body: Mapping[str, Any], source: Mapping[str, Any], mapping: Mapping[str, Any]) -> bool:
    """Match when one object of the nested field matches the whole inner query on its own."""
    if not isinstance(body, Mapping) or "path" not in body or "query" not in body:
        raise ValidationError("a nested query needs a path and a query")
    parts, props, spec = str(body["path"]).split("."), mapping.get("properties", {}), None
    for part in parts:
        spec = props.get(part) or {}
        props = spec.get("properties", {})
    if not spec or spec.get("type") != "nested":
        raise ValidationError(f"[nested] failed to find nested object under path [{body['path']}]")
    for item in source_values(source, parts):
        if isinstance(item, Mapping):
            wrapped: Any = item
            for part in reversed(parts):
                wrapped = {part: wrapped}
            if matches(body["query"], wrapped, mapping, ".".join(parts)):
                return True
    return False


def _terms(body: Mapping[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in body.items() if k != "boost"}
    return {k: {"values": v} for k, v in fields.items()}


def _match(field_type: str, spec: Mapping[str, Any], have: list[Any]) -> bool:
    if field_type != "text":
        return coerce(field_type, spec["query"]) in have
    tokens = analyze(spec["query"])
    found = [token in have for token in tokens]
    return bool(tokens) and (all(found) if spec.get("operator") == "and" else any(found))


def _range(field_type: str, bounds: Mapping[str, Any], have: list[Any]) -> bool:
    if field_type == "text" or not isinstance(bounds, Mapping):
        raise ValidationError("range queries need a keyword, numeric or date field and bounds")
    tests: dict[str, Callable[[Any, Any], bool]] = {
        "gte": lambda v, b: v >= b,
        "gt": lambda v, b: v > b,
        "lte": lambda v, b: v <= b,
        "lt": lambda v, b: v < b,
    }
    limits = [(tests[op], coerce(field_type, b)) for op, b in bounds.items() if op in tests]
    return any(all(test(v, b) for test, b in limits) for v in have)


def _bool(
    body: Mapping[str, Any],
    source: Mapping[str, Any],
    mapping: Mapping[str, Any],
    nested: str | None = None,
) -> bool:
    def clauses(name: str) -> list[Mapping[str, Any]]:
        found = body.get(name, [])
        return [found] if isinstance(found, Mapping) else list(found)

    required = clauses("must") + clauses("filter")
    if not all(matches(q, source, mapping, nested) for q in required):
        return False
    if any(matches(q, source, mapping, nested) for q in clauses("must_not")):
        return False
    should = clauses("should")
    return bool(required) or not should or any(matches(q, source, mapping, nested) for q in should)


def sort_key(values: list[Any], order: str) -> tuple[int, Any]:
    """Return a sort key: min (asc) or max (desc) of the values, missing ones last."""
    if not values:
        return (1, 0)
    return (0, min(values) if order == "asc" else max(values))
