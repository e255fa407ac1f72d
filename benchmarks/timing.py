"""Timing shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def latencies(calls: int, call: Callable[[], object], warmup: int = 5) -> list[float]:
    """Return the seconds each of ``calls`` calls took, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds
