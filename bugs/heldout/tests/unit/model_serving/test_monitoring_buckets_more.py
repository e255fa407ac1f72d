"""Held-out: bucket placement and percentile ranks on other bounds and samples."""

from __future__ import annotations

import pytest

from services.monitoring.histograms import Histogram, percentile

pytestmark = pytest.mark.monitoring


def test_integer_bounds_take_their_equal_observations():
    histogram = Histogram((100.0, 200.0))
    for value in (100.0, 200.0, 200.0):
        histogram.observe(value)
    assert histogram.cumulative() == [("100", 1), ("200", 3), ("+Inf", 3)]


def test_seventy_fifth_percentile_of_six_values():
    assert percentile([6.0, 1.0, 5.0, 2.0, 4.0, 3.0], 75) == 5.0
