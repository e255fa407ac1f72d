"""Make the OpenAPI request schemas state what the JSON parser refuses: NUL in any key or text.

PlatformJSONParser answers 422 for a NUL character anywhere in a body, in known fields, in
free-form objects (``params``) and in properties no serializer reads. A request schema that
does not say so lets clients (and schemathesis) send bodies it calls valid and get 422. This
drf-spectacular post-processing hook adds the rule to every schema reachable from a request
body: strings without a pattern get a NUL-free one, objects get NUL-free property names, and
free-form or unlisted properties must be ``StorableJSON`` (any JSON holding no NUL).
"""

from __future__ import annotations

from typing import Any

# ECMA-262 regex for text with no NUL; the body patterns already in use exclude it as well.
NUL_FREE = "^[^\\u0000]*$"
STORABLE_NAME = "StorableJSON"
STORABLE_REF = {"$ref": f"#/components/schemas/{STORABLE_NAME}"}
STORABLE_JSON: dict[str, Any] = {
    "description": "Any JSON value whose strings and object keys hold no NUL character.",
    "anyOf": [
        {"type": ["null", "boolean", "number"]},
        {"type": "string", "pattern": NUL_FREE},
        {"type": "array", "items": STORABLE_REF},
        {
            "type": "object",
            "propertyNames": {"pattern": NUL_FREE},
            "additionalProperties": STORABLE_REF,
        },
    ],
}


def declare_storable_bodies(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Add the parser's NUL rule to every component schema a request body reaches."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    pending = _request_refs(result.get("paths", {}))
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending += _constrain(schemas[name])
    if seen:
        schemas[STORABLE_NAME] = STORABLE_JSON
    return result


def _request_refs(paths: dict[str, Any]) -> list[str]:
    # Component names that some operation's request body points at directly.
    names = []
    for operations in paths.values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                names += _ref_names(media.get("schema", {}))
    return names


def _ref_names(schema: Any) -> list[str]:
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    return [ref.rsplit("/", 1)[-1]] if ref.startswith("#/components/schemas/") else []


def _constrain(schema: Any) -> list[str]:
    # Tightens one schema in place; returns the components it references, to visit next.
    if not isinstance(schema, dict):
        return []
    refs = _ref_names(schema)
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if "string" in types and "pattern" not in schema and "enum" not in schema:
        schema["pattern"] = NUL_FREE
    if "object" in types:
        schema.setdefault("propertyNames", {}).setdefault("pattern", NUL_FREE)
        if schema.get("additionalProperties", True) is True:
            schema["additionalProperties"] = STORABLE_REF
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            refs += _constrain(child)
    for key in ("items", "additionalProperties"):
        refs += _constrain(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            refs += _constrain(child)
    return refs
