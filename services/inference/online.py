"""Prediction rows read from the feature store's online store instead of sent by the caller."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared.clients.features import OnlineFeatures
from shared.errors import ServiceUnavailableError, ValidationError

Rows = list[dict[str, Any]]


def online_rows(
    features: OnlineFeatures | None, view: str, keys: Sequence[str]
) -> Callable[[Sequence[str]], Rows]:
    """Return what builds a model's input rows from the online values of ``keys`` in ``view``.

    The rows hold the model's trained input features, looked up by name in the view's values
    (so the view's column order never matters). An entity without fresh values (unknown, or
    past the view's TTL) and a model feature the view lacks are 422s naming them.
    """

    def rows_for(input_schema: Sequence[str]) -> Rows:
        if features is None:
            raise ServiceUnavailableError("the feature store is not configured for serving")
        answer = features.online(view, keys)
        entries = {entry["entity_key"]: entry for entry in answer["entities"]}
        missing = [
            (index, key)
            for index, key in enumerate(keys)
            if (entries.get(key) or {}).get("values") is None
        ]
        if missing:
            raise ValidationError(
                f"feature view {view!r} has no fresh online features for {[k for _, k in missing]}",
                details=[
                    {
                        "loc": ["entities", "keys", index],
                        "msg": f"no fresh features for {key!r}",
                        "type": "stale_or_unknown_entity",
                    }
                    for index, key in missing
                ],
            )
        rows = []
        for key in keys:
            values = entries[key]["values"]
            lacking = [name for name in input_schema if values.get(name) is None]
            if lacking:
                raise ValidationError(
                    f"feature view {view!r} has no value of {lacking} for {key!r}",
                    details=[{"loc": ["entities", "feature_view"], "msg": "missing features"}],
                )
            rows.append({name: _number(values[name], name) for name in input_schema})
        return rows

    return rows_for


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"online feature {name!r} is not a number: {value!r}") from None
