"""Aggregation: latency histograms with Prometheus bucket bounds, percentiles, bounded labels."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

OTHER = "other"


def bucket_index(bounds: Sequence[float], value: float) -> int:
    """Return the index of the bucket that counts ``value`` (``len(bounds)`` is +Inf)."""
    return bisect_left(bounds, value)


@dataclass
class Histogram:
    """Counts of observations per bucket (not cumulative), their sum and count."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if list(self.bounds) != sorted(set(self.bounds)):
            raise ValueError("histogram bounds must be strictly ascending")
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        """Count one observation."""
        self.counts[bucket_index(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """Return ``(le, count of observations <= le)`` per bound, ending with +Inf."""
        out: list[tuple[str, int]] = []
        running = 0
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append((format_bound(bound), running))
        return out


def format_bound(bound: float) -> str:
    """Return a bound as Prometheus writes ``le`` (``+Inf``, ``0.5``, ``100``)."""
    if math.isinf(bound):
        return "+Inf"
    return repr(float(bound)).removesuffix(".0") if float(bound).is_integer() else repr(bound)


def percentile(values: Iterable[float], q: float) -> float | None:
    """Return the nearest-rank ``q`` percentile (0 < q <= 100) of ``values``, or None if empty.

    The nearest rank is the smallest value with at least q% of the values at or below it.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    rank = math.ceil(q / 100.0 * len(ordered))
    return ordered[max(rank, 1) - 1]


class LabelLimiter:
    """Keep a label's distinct values bounded: the first ``limit`` seen stay, later ones fold."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def fold(self, value: str) -> str:
        """Return ``value`` while it is one of the first ``limit`` values, else ``other``."""
        if value in self._seen:
            return value
        if len(self._seen) < self.limit:
            self._seen.add(value)
            return value
        return OTHER
