"""Turn feature records (dicts keyed by feature name) into the numpy matrices models take."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from shared.errors import ValidationError


def records_to_matrix(
    records: Sequence[Any], schema: Sequence[str], *, max_rows: int | None = None
) -> npt.NDArray[np.float32]:
    """Return records as a float32 matrix with columns in schema order; refuse bad records.

    A record must be an object holding exactly the schema's features, each a finite number
    (booleans are not numbers); the first offending record is reported with its index.
    """
    if max_rows is not None and len(records) > max_rows:
        raise ValidationError(f"at most {max_rows} instances per request")
    rows = [record_values(index, record, schema) for index, record in enumerate(records)]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(schema))


def record_values(index: int, record: Any, schema: Sequence[str]) -> list[float]:
    """Return one record's feature values in schema order, or raise ValidationError."""
    if not isinstance(record, dict):
        raise ValidationError(f"instance {index} is not an object")
    missing = [f for f in schema if f not in record]
    unknown = sorted(set(record) - set(schema))
    if missing or unknown:
        raise ValidationError(
            f"instance {index} does not match the input schema",
            details={"instance": index, "missing": missing, "unknown": unknown},
        )
    non_numeric = [f for f in schema if not _is_number(record[f])]
    if non_numeric:
        raise ValidationError(
            f"instance {index} has non-numeric features",
            details={"instance": index, "non_numeric": non_numeric},
        )
    non_finite = [f for f in schema if not _is_finite(record[f])]
    if non_finite:
        raise ValidationError(
            f"instance {index} has NaN or infinite features",
            details={"instance": index, "non_finite": non_finite},
        )
    return [float(record[f]) for f in schema]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False
