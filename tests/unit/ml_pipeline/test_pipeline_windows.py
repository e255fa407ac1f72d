"""Event-time tumbling windows of in-order records, and what makes a record unusable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.pipeline.runs import RetryPolicy
from services.pipeline.windows import aggregate, parse_record, parse_records, window_start

pytestmark = pytest.mark.pipeline

T0 = datetime(2024, 3, 10, 6, 0, tzinfo=UTC)  # New York springs forward at 07:00Z
HOUR = timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")


def records(*minutes: float, value: object = 1) -> list:
    """Return parsed records stamped by a producer in New York (-04:00 after 07:00Z)."""
    local = [(T0 + timedelta(minutes=m)).astimezone(NEW_YORK) for m in minutes]
    return parse_records([{"ts": t.isoformat(), "value": value} for t in local])[0]


def test_window_start_is_inclusive_and_end_exclusive() -> None:
    assert window_start(T0, HOUR) == T0
    assert window_start(T0 + HOUR - timedelta(microseconds=1), HOUR) == T0
    assert window_start(T0 + HOUR, HOUR) == T0 + HOUR


def test_records_stamped_across_a_dst_change_land_in_utc_windows() -> None:
    # 01:30-05:00 and 03:30-04:00 are one hour and a half apart in New York's morning.
    raw = [
        {"ts": "2024-03-10T01:30:00-05:00", "value": 1},
        {"ts": "2024-03-10T03:30:00-04:00", "value": 1},
    ]
    result = aggregate([parse_records(raw)[0]], HOUR, timedelta(0))
    assert sorted(result.windows) == [T0, T0 + HOUR]


def test_in_order_records_fill_their_windows() -> None:
    result = aggregate([records(0, 59, 60, 61, 125)], HOUR, timedelta(0)).to_dict()
    assert [(w["start"], w["count"]) for w in result["windows"]] == [
        (T0.isoformat(), 2),
        ((T0 + HOUR).isoformat(), 2),
        ((T0 + 2 * HOUR).isoformat(), 1),
    ]
    assert result["late_records"] == 0


def test_sums_are_exact_decimals() -> None:
    result = aggregate([records(1, 2, 3, value="0.1")], HOUR, timedelta(0))
    assert result.windows[T0].total == Decimal("0.3")


def test_record_for_a_closed_window_counts_as_late() -> None:
    result = aggregate([records(10, 130, 20)], HOUR, timedelta(minutes=30))
    assert result.late == 1
    assert result.windows[T0].count == 1


def test_late_record_within_the_allowed_lateness_is_kept() -> None:
    result = aggregate([records(10, 70, 20)], HOUR, timedelta(minutes=15))
    assert result.late == 0 and result.windows[T0].count == 2


@pytest.mark.parametrize(
    "raw",
    [
        {"ts": "2024-03-10T06:00:00", "value": 1},
        {"ts": "2024-03-10T06:00:00Z", "value": "NaN"},
        {"ts": "2024-03-10T06:00:00Z", "value": True},
        {"ts": "yesterday", "value": 1},
        {"ts": "2024-03-10T06:00:00Z", "value": float("inf")},
        ["2024-03-10T06:00:00Z", 1],
    ],
)
def test_unusable_records_are_refused(raw: object) -> None:
    assert parse_record(raw) is None


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
