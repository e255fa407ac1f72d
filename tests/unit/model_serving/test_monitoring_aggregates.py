"""Latency aggregates of the monitoring service: bucket bounds, percentiles, label limits."""

from __future__ import annotations

import pytest

from services.monitoring.histograms import Histogram, LabelLimiter, percentile

pytestmark = pytest.mark.monitoring


def test_round_latencies_count_in_the_bucket_they_name():
    histogram = Histogram((1.0, 2.5, 10.0))
    for value in (1.0, 2.5, 2.6, 10.0, 11.0):
        histogram.observe(value)
    assert histogram.cumulative() == [("1", 1), ("2.5", 2), ("10", 4), ("+Inf", 5)]


def test_value_below_every_bound_lands_in_the_first_bucket():
    histogram = Histogram((5.0, 10.0))
    histogram.observe(0.0)
    assert histogram.cumulative()[0] == ("5", 1)


def test_bounds_must_ascend():
    with pytest.raises(ValueError, match="ascending"):
        Histogram((10.0, 5.0))


@pytest.mark.parametrize(
    ("q", "expected"),
    [(50, 30.0), (90, 50.0), (99, 50.0), (20, 10.0), (21, 20.0)],
)
def test_reported_percentile_is_a_latency_some_request_took(q, expected):
    assert percentile([50.0, 10.0, 40.0, 20.0, 30.0], q) == expected


def test_percentile_of_nothing_is_none():
    assert percentile([], 95) is None


def test_label_limiter_keeps_the_first_values_and_folds_the_rest():
    limiter = LabelLimiter(2)
    folded = [limiter.fold(v) for v in ("a", "b", "c", "a", "d", "b")]
    assert folded == ["a", "b", "other", "a", "other", "b"]
