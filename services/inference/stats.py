"""Per-version serving counters: latency histograms and shadow comparisons."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

# Upper bounds (seconds) of the latency histogram's buckets; one more bucket counts the rest.
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Two regression values agree when they differ by at most this much (relative).
VALUE_TOLERANCE = 1e-6


@dataclass
class Latency:
    """Counts of predictions by the first bound their duration does not exceed."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))

    def observe(self, seconds: float) -> None:
        """Count one prediction that took ``seconds``."""
        self.counts[bisect.bisect_left(LATENCY_BOUNDS, seconds)] += 1

    def out(self) -> dict[str, Any]:
        """Return the histogram as its API body."""
        return {"le": list(LATENCY_BOUNDS), "counts": list(self.counts)}


@dataclass
class ShadowCounts:
    """How often a shadow version answered, agreed with the served answer, or failed."""

    compared: int = 0
    agreed: int = 0
    errors: int = 0

    def out(self) -> dict[str, int]:
        """Return the counters as their API body."""
        return {"compared": self.compared, "agreed": self.agreed, "errors": self.errors}


def same_answers(served: list[dict[str, Any]], shadow: list[dict[str, Any]]) -> bool:
    """Return whether a shadow's predictions match the served ones (labels, or values)."""
    if len(served) != len(shadow):
        return False
    for mine, theirs in zip(served, shadow, strict=True):
        if "label" in mine or "label" in theirs:
            if mine.get("label") != theirs.get("label"):
                return False
        elif not math.isclose(mine["value"], theirs["value"], rel_tol=VALUE_TOLERANCE):
            return False
    return True
