"""Held-out: bucket placement and percentile ranks on other bounds and samples."""

from __future__ import annotations

import pytest

from services.monitoring.histograms import Histogram

pytestmark = pytest.mark.monitoring


def test_integer_bounds_take_their_equal_observations():
    histogram = Histogram((100.0, 200.0))
    for value in (100.0, 200.0, 200.0):
        histogram.observe(value)
    assert histogram.cumulative() == [("100", 1), ("200", 3), ("+Inf", 3)]
