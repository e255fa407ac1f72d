"""Parse JSON request bodies for the Django services, refusing what no database should store.

DRF reads the body stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never applies to it:
this parser enforces that size (413), refuses deep nesting (400), NUL characters and unpaired
surrogates anywhere in keys or values (422: PostgreSQL refuses NUL in text and jsonb, and no
database can encode a lone surrogate), and reports syntax errors as 400 ``malformed_json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from shared.errors import BadRequestError, PayloadTooLargeError, ValidationError

MAX_JSON_DEPTH = 32


class PlatformJSONParser(JSONParser):
    """Parse a strict JSON body of bounded size and depth holding only storable text."""

    # How JSON numbers with a fraction or exponent are read (None: Python floats).
    parse_float: Callable[[str], Any] | None = None

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Return the parsed body, or raise a platform or DRF error with the right status."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLargeError(f"request body exceeds {limit} bytes")
        try:
            data = json.loads(
                raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=self.parse_float
            )
        except RecursionError:
            raise BadRequestError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"malformed JSON: {exc}") from None
        check_storable(data)
        return data


class DecimalJSONParser(PlatformJSONParser):
    """Read fractions as Decimal, for bodies whose numbers must be kept digit for digit."""

    parse_float = Decimal


def check_storable(data: Any) -> None:
    """Raise unless data is at most MAX_JSON_DEPTH deep and every string is storable text."""
    problems = []
    for loc, text, depth in _walk(data, [], 1):
        if depth > MAX_JSON_DEPTH:
            raise BadRequestError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if text is not None and (reason := _unstorable(text)):
            problems.append({"loc": loc, "msg": reason, "type": "invalid_text"})
    if problems:
        where = ".".join(str(part) for part in problems[0]["loc"]) or "body"
        raise ValidationError(f"{where}: {problems[0]['msg']}", details=problems)


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them unless told otherwise.
    raise ValueError(f"{name} is not valid JSON")


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "text must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must not contain unpaired surrogates"
    return None


def _walk(value: Any, loc: list[Any], depth: int) -> Iterator[tuple[list[Any], str | None, int]]:
    # Yields (location, string or None, depth) for every key and value; stops below the limit.
    yield loc, value if isinstance(value, str) else None, depth
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield [*loc, key], key, depth
            yield from _walk(item, [*loc, key], depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, [*loc, index], depth + 1)
