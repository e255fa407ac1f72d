"""Refuse hostile input before any route runs: huge bodies, bad JSON, NUL characters.

Every FastAPI service runs this middleware (``shared.web``): a body past the size limit is
a 413, a JSON body that is not strictly valid JSON (syntax, NaN or Infinity, invalid UTF-8,
nesting past ``MAX_JSON_DEPTH``) a 400 ``malformed_json``, a number a float cannot hold or a
64-bit column cannot store, or a NUL character in a string value, a 422 — never a 500 from the
database or the encoder further down. A NUL in the path or query string is a 400: PostgreSQL
refuses NUL in text, SQLite stores it, so both behave the same only if it never gets there.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import BadRequestError, PayloadTooLargeError, SynapseError, ValidationError
from shared.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 32
# Integers past a signed 64-bit column overflow every database the platform runs on.
MAX_INTEGER = 2**63 - 1
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class MalformedJSONError(BadRequestError):
    """Raised when a request body is not strictly valid JSON."""

    code = "malformed_json"


class _NumberOutOfRange(Exception):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _refuse_constant(name: str) -> None:
    raise MalformedJSONError(f"{name} is not valid JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _NumberOutOfRange(literal)
    return value


def _bounded_int(literal: str) -> int:
    if len(literal) > 20 or abs(int(literal)) > MAX_INTEGER:
        raise _NumberOutOfRange(literal)
    return int(literal)


def parse_json(body: bytes) -> Any:
    """Return the JSON value of ``body``, refusing anything a service could not store."""
    try:
        value = json.loads(
            body.decode("utf-8"),
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except _NumberOutOfRange as exc:
        literal = exc.literal if len(exc.literal) <= 40 else exc.literal[:37] + "..."
        raise ValidationError(
            f"number {literal} is out of range",
            details=[{"loc": ["body"], "msg": "number out of range", "type": "out_of_range"}],
        ) from None
    except RecursionError:
        raise MalformedJSONError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError):
        raise MalformedJSONError("request body is not valid JSON") from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Refuse nesting past ``MAX_JSON_DEPTH`` and NUL characters in string values.

    Keys are names (fields, features) that routes check against what they know; only
    values reach storage.
    """
    stack: list[tuple[Any, list[Any]]] = [(value, ["body"])]
    while stack:
        item, loc = stack.pop()
        if len(loc) > MAX_JSON_DEPTH + 1:
            raise MalformedJSONError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str) and "\x00" in item:
            raise ValidationError(
                "text must not contain NUL characters",
                details=[{"loc": loc, "msg": "NUL character in text", "type": "nul_character"}],
            )
        if isinstance(item, dict):
            stack.extend((child, [*loc, key]) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, [*loc, index]) for index, child in enumerate(item))


def is_json(content_type: str | None) -> bool:
    """Return whether a request's content type means JSON (FastAPI reads a missing one so)."""
    media_type = (content_type or "application/json").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def header(scope: Scope, name: bytes) -> str | None:
    """Return one request header of an ASGI scope, decoded, or None."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def check_target(scope: Scope) -> None:
    """Refuse a NUL character in the decoded path or the query string."""
    query = scope.get("query_string", b"").lower()
    if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
        raise BadRequestError("the path and query must not contain NUL characters")


class RequestGuard:
    """ASGI middleware: check the target and the body, then replay the body to the app."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a hostile request with a problem; pass the others on unchanged."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_target(scope)
            if scope["method"] not in BODY_METHODS:
                await self.app(scope, receive, send)
                return
            body = await self.read_body(scope, receive)
            if body and is_json(header(scope, b"content-type")):
                parse_json(body)
        except SynapseError as exc:
            await problem_response(exc.status_code, exc.code, exc.message, exc.details)(
                scope, receive, send
            )
            return
        await self.app(scope, replay(body, receive), send)

    async def read_body(self, scope: Scope, receive: Receive) -> bytes:
        """Return the whole body, refusing it (413) as soon as it passes the limit."""
        limit = self.max_body_bytes
        declared = header(scope, b"content-length")
        too_large = PayloadTooLargeError(f"request body exceeds {limit} bytes")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """Return a receive channel that yields ``body`` once, then defers to ``receive``."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
