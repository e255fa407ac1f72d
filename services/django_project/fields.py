"""DRF fields every Django service shares: JSON types taken as sent, never coerced.

DRF's own fields accept what a JSON schema refuses ("3" for an integer, 3 for a string,
"yes" for a boolean); these refuse it, so the OpenAPI document and the API agree.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

# URIs, run IDs and actors: no whitespace, no ASCII or Latin-1 control characters (the schema's
# pattern).
VISIBLE = RegexValidator(
    r"^[^\s\x00-\x1f\x7f-\x9f]*\Z", "must not contain whitespace or control characters"
)


class StrictFloatField(serializers.FloatField):
    """A JSON number only: DRF would also take "1.5" and true, which the schema refuses."""

    def to_internal_value(self, data: Any) -> float:
        """Return the number, refusing strings and booleans."""
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF would also take "3" and 3.0, which the schema refuses."""

    def to_internal_value(self, data: Any) -> int:
        """Return the integer, refusing strings, floats and booleans."""
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF would also take 3 and true as "3" and "True"."""

    def to_internal_value(self, data: Any) -> str:
        """Return the text, refusing numbers, booleans and containers."""
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: DRF would also take "yes" and 1, which the schema refuses."""

    def to_internal_value(self, data: Any) -> bool:
        """Return the boolean, refusing anything else."""
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
