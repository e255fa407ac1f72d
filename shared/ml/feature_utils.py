"""Turn feature records (dicts keyed by feature name) into the numpy matrices models take."""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
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


# --- Feature store helpers: exact values, ordered transforms, point-in-time lookups, drift ---

DTYPES = ("int64", "float64", "decimal", "string", "bool")
NUMERIC_DTYPES = frozenset({"int64", "float64", "decimal"})
TRANSFORM_OPS = {
    "scale": ("factor",),
    "shift": ("by",),
    "clip": ("low", "high"),
    "round": ("places",),
}
PSI_THRESHOLD = 0.2
KS_THRESHOLD = 0.2
CORRELATION_THRESHOLD = 0.9
PSI_BINS = 10
_EPSILON = 1e-6


def exact(value: Any, dtype: str) -> Any:
    """Return a feature value in its dtype's exact form: Decimal for numbers, or refuse it.

    ``int64`` takes integers only, ``decimal`` and ``float64`` integers and fractions (JSON
    numbers parsed as Decimal keep every digit), ``string`` text, ``bool`` booleans; None is a
    missing value whatever the dtype.
    """
    if value is None:
        return None
    if dtype == "string":
        if not isinstance(value, str):
            raise ValidationError(f"{value!r} is not a string")
        return value
    if dtype == "bool":
        if not isinstance(value, bool):
            raise ValidationError(f"{value!r} is not a boolean")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValidationError(f"{value!r} is not a number")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValidationError(f"{value!r} is not a finite number")
    if dtype == "int64" and (number != number.to_integral_value() or abs(number) >= 2**63):
        raise ValidationError(f"{value!r} is not a 64-bit integer")
    return number


def validate_chain(chain: Any) -> list[dict[str, Any]]:
    """Return a transform chain (a list of {"op": ..., arguments}) or raise ValidationError."""
    if not isinstance(chain, list):
        raise ValidationError("transforms must be a list")
    steps = []
    for index, step in enumerate(chain):
        if not isinstance(step, dict) or step.get("op") not in TRANSFORM_OPS:
            raise ValidationError(
                f"transform {index} must be an object whose op is one of {sorted(TRANSFORM_OPS)}"
            )
        expected = set(TRANSFORM_OPS[step["op"]])
        if set(step) - {"op"} != expected:
            raise ValidationError(f"transform {index} ({step['op']}) takes {sorted(expected)}")
        for name in expected:
            arg = step[name]
            if isinstance(arg, bool) or not isinstance(arg, int | Decimal | float):
                raise ValidationError(f"transform {index}: {name} must be a number")
            if not Decimal(str(arg)).is_finite():
                raise ValidationError(f"transform {index}: {name} must be finite")
        if step["op"] == "clip" and Decimal(str(step["low"])) > Decimal(str(step["high"])):
            raise ValidationError(f"transform {index}: clip needs low <= high")
        if step["op"] == "round" and (
            not isinstance(step["places"], int) or not 0 <= step["places"] <= 12
        ):
            raise ValidationError(f"transform {index}: places must be an integer from 0 to 12")
        steps.append(step)
    return steps


def _step(step: dict[str, Any]) -> Callable[[Any], Any]:
    op = step["op"]
    if op == "scale":
        factor = Decimal(str(step["factor"]))
        return lambda x: x * factor
    if op == "shift":
        by = Decimal(str(step["by"]))
        return lambda x: x + by
    if op == "clip":
        low, high = Decimal(str(step["low"])), Decimal(str(step["high"]))
        return lambda x: min(max(x, low), high)
    quantum = Decimal(1).scaleb(-int(step["places"]))
    return lambda x: x.quantize(quantum, rounding=ROUND_HALF_EVEN)


def apply_chain(value: Any, chain: Sequence[dict[str, Any]]) -> Any:
    """Apply a validated transform chain to a number in declared order (first step first).

    Missing values stay missing; arithmetic is exact (Decimal) so a shift by 0.2 of 0.1 is 0.3.
    """
    if value is None:
        return None
    start: Callable[[Any], Any] = _identity
    return functools.reduce(_then, map(_step, chain), start)(value)


def _then(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda x: second(first(x))


def _identity(value: Any) -> Any:
    return value


def utc_instant(moment: datetime) -> datetime:
    """Return an aware datetime as the same instant in UTC; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("timestamps need a time zone offset (Z or +hh:mm)")
    return moment.astimezone(UTC)


def latest_at_or_before(times: Sequence[datetime], moment: datetime) -> int | None:
    """Return the index of the last of the sorted ``times`` at or before ``moment``, or None."""
    index = bisect.bisect_right(times, moment)
    return index - 1 if index else None


def _quantile_edges(reference: Sequence[float], bins: int) -> list[float]:
    ordered = sorted(reference)
    edges: list[float] = []
    for i in range(1, bins):
        edge = ordered[min(len(ordered) - 1, (i * len(ordered)) // bins)]
        if not edges or edge > edges[-1]:
            edges.append(edge)
    return edges


def _shares(values: Sequence[float], edges: Sequence[float]) -> list[float]:
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[bisect.bisect_right(edges, value)] += 1
    return [max(c / len(values), _EPSILON) for c in counts]


def psi(reference: Sequence[float], current: Sequence[float], bins: int = PSI_BINS) -> float:
    """Return the population stability index of current against reference (quantile bins)."""
    if not reference or not current:
        raise ValidationError("drift needs values in both windows")
    edges = _quantile_edges(reference, bins)
    expected, actual = _shares(reference, edges), _shares(current, edges)
    return float(sum((a - e) * math.log(a / e) for e, a in zip(expected, actual, strict=True)))


def ks_statistic(reference: Sequence[float], current: Sequence[float]) -> float:
    """Return the two-sample Kolmogorov-Smirnov statistic (largest gap between the CDFs)."""
    if not reference or not current:
        raise ValidationError("drift needs values in both windows")
    a, b = sorted(reference), sorted(current)
    gap = 0.0
    for point in sorted(set(a) | set(b)):
        gap = max(
            gap,
            abs(bisect.bisect_right(a, point) / len(a) - bisect.bisect_right(b, point) / len(b)),
        )
    return gap


def correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Return Pearson's r of two equally long samples (0 when either is constant)."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return 0.0 if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def correlated_groups(
    columns: dict[str, Sequence[float]], threshold: float = CORRELATION_THRESHOLD
) -> list[list[str]]:
    """Group features that move together (|r| >= threshold, either sign) in the reference window.

    Groups are the connected components of the correlation graph, each listed in name order;
    a drift check reports one alert per group, so copies of one signal raise one alarm.
    """
    names = sorted(columns)
    parent = {name: name for name in names}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if abs(correlation(columns[first], columns[second])) >= threshold:
                parent[root(second)] = root(first)
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(root(name), []).append(name)
    return sorted(groups.values())


def drift_report(
    reference: Mapping[str, Sequence[float]], current: Mapping[str, Sequence[float]]
) -> dict[str, Any]:
    """Return per-feature PSI and KS, whether each drifted, and one alert per drifted group.

    A feature drifts when both its PSI and its KS statistic reach their thresholds; features
    correlated in the reference window form one group and raise at most one alert together.
    """
    features = {}
    for name in sorted(reference):
        score, gap = (
            psi(reference[name], current[name]),
            ks_statistic(reference[name], current[name]),
        )
        features[name] = {
            "psi": round(score, 6),
            "ks": round(gap, 6),
            "drifted": score >= PSI_THRESHOLD and gap >= KS_THRESHOLD,
        }
    paired = {n: v for n, v in reference.items() if len(v) > 1}
    alerts = [
        {"features": group, "psi": max(features[n]["psi"] for n in group)}
        for group in correlated_groups(paired)
        if any(features[n]["drifted"] for n in group)
    ]
    return {"features": features, "alerts": alerts}


def summarize(values: Sequence[Decimal]) -> dict[str, Any]:
    """Return count, sum, mean, min and max of exact values, the numbers as decimal text."""
    if not values:
        return {"count": 0, "sum": "0", "mean": None, "min": None, "max": None}
    total = sum(values, Decimal(0))
    return {
        "count": len(values),
        "sum": str(total),
        "mean": str(total / len(values)),
        "min": str(min(values)),
        "max": str(max(values)),
    }
