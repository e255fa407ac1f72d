"""Exact values: the JSON literals runs log, read back as Decimal so no precision is lost.

Request bodies of the experiments service are parsed with fractions as ``Decimal``; a value
is stored as its literal (``"0.10000000000000001"`` stays that) and compared by exact
numeric value: ``1`` equals ``1.0``, ``0.1`` differs from ``0.10000000000000001``, ``true``
is not the number ``1``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import ValidationError

MAX_NUMBER_LENGTH = 64


def is_number(value: Any) -> bool:
    """Return whether a parsed JSON value is a number (booleans are not)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def number_literal(value: Any, where: str) -> str:
    """Return the literal of a finite JSON number, or raise ValidationError."""
    if not is_number(value):
        raise ValidationError(f"{where} must be a number")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise ValidationError(f"{where} must be a finite number")
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValidationError(f"{where} is written with more than {MAX_NUMBER_LENGTH} characters")
    return text


def to_literal(value: Any, where: str = "value") -> str:
    """Return the JSON text of a parsed value, numbers written exactly as they were read."""
    if is_number(value):
        return number_literal(value, where)
    if isinstance(value, dict):
        items = (f"{json.dumps(k)}:{to_literal(v, where)}" for k, v in sorted(value.items()))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_literal(item, where) for item in value) + "]"
    return json.dumps(value)


def exact(text: str) -> Any:
    """Return a stored literal parsed with every number as a Decimal."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def plain(text: str) -> Any:
    """Return a stored literal as plain JSON (numbers as int or float) for display."""
    return json.loads(text)


def decimal_of(text: str) -> Decimal:
    """Return a stored number literal as a Decimal."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{text!r} is not a number") from None
