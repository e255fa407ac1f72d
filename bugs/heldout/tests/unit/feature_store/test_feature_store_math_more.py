"""Held-out variants: transform order, correlated drift groups and offset instants."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.ml.feature_utils import apply_chain, correlated_groups, drift_report, utc_instant

pytestmark = pytest.mark.features


def test_clip_round_then_shift_runs_in_that_order():
    chain = [
        {"op": "clip", "low": Decimal("-1"), "high": Decimal("1")},
        {"op": "round", "places": 1},
        {"op": "shift", "by": Decimal("40")},
    ]
    assert apply_chain(Decimal("0.96"), chain) == Decimal("41.0")
    assert apply_chain(Decimal("-7"), chain) == Decimal("39")


def test_a_four_step_chain_on_a_negative_value_keeps_its_order():
    chain = [
        {"op": "scale", "factor": Decimal("-3")},
        {"op": "shift", "by": Decimal("0.5")},
        {"op": "clip", "low": Decimal("0"), "high": Decimal("10")},
        {"op": "scale", "factor": Decimal("0.1")},
    ]
    assert apply_chain(Decimal("-2"), chain) == Decimal("0.65")


def test_an_anti_correlated_trio_drifting_together_pages_once():
    rng = random.Random(77)
    base = [rng.uniform(0, 5) for _ in range(120)]
    moved = [rng.uniform(8, 13) for _ in range(120)]
    reference = {
        "assets": base,
        "liabilities": [-2 * v for v in base],
        "net": [v - 1 for v in base],
    }
    current = {
        "assets": moved,
        "liabilities": [-2 * v for v in moved],
        "net": [v - 1 for v in moved],
    }
    report = drift_report(reference, current)
    assert [a["features"] for a in report["alerts"]] == [["assets", "liabilities", "net"]]


def test_a_weakly_negative_copy_is_grouped_only_past_the_threshold():
    rng = random.Random(5)
    base = [rng.gauss(0, 1) for _ in range(80)]
    noisy = [-v + rng.gauss(0, 0.05) for v in base]
    assert correlated_groups({"x": base, "y": noisy}) == [["x", "y"]]


@pytest.mark.parametrize("minutes", [585, -570, 765])
def test_unusual_offsets_read_as_the_same_instant(minutes):
    moment = datetime(2031, 7, 4, 23, 15, tzinfo=UTC)
    local = moment.astimezone(timezone(timedelta(minutes=minutes)))
    assert utc_instant(local) == moment
    assert utc_instant(local).hour == 23
