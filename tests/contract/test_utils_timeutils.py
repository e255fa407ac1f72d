"""Time helpers: aware UTC values in and out, ISO 8601 with Z, and a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.errors import ValidationError
from shared.utils.timeutils import (
    Clock,
    FakeClock,
    SystemClock,
    ensure_aware,
    isoformat,
    parse_iso8601,
    to_utc,
    utcnow,
)

pytestmark = pytest.mark.gateway

NEW_YORK = ZoneInfo("America/New_York")


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.utcoffset() == timedelta(0)


def test_ensure_aware_refuses_naive_values():
    with pytest.raises(ValidationError, match="naive"):
        ensure_aware(datetime(2024, 3, 10, 12, 0))


def test_ensure_aware_assumes_utc_only_when_asked():
    value = ensure_aware(datetime(2024, 3, 10, 12, 0), assume_utc=True)
    assert value == datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def test_new_york_times_across_the_dst_change_keep_their_instant():
    before = datetime(2024, 3, 10, 1, 30, tzinfo=NEW_YORK)
    after = datetime(2024, 3, 10, 3, 30, tzinfo=NEW_YORK)
    assert to_utc(before) == datetime(2024, 3, 10, 6, 30, tzinfo=UTC)
    assert to_utc(after) - to_utc(before) == timedelta(hours=1)


def test_parse_accepts_z_and_offsets_and_returns_utc():
    assert parse_iso8601("2024-06-01T12:00:00Z") == datetime(2024, 6, 1, 12, tzinfo=UTC)
    parsed = parse_iso8601("2024-06-01T08:00:00-04:00")
    assert parsed == datetime(2024, 6, 1, 12, tzinfo=UTC) and parsed.tzinfo is UTC


def test_parse_refuses_a_timestamp_without_offset():
    with pytest.raises(ValidationError, match="no time zone"):
        parse_iso8601("2024-06-01T12:00:00")


def test_parse_uses_the_given_default_zone_for_naive_text():
    parsed = parse_iso8601("2024-01-15T07:00:00", default_tz=NEW_YORK)
    assert parsed == datetime(2024, 1, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00Z", None])
def test_parse_refuses_garbage(text):
    with pytest.raises(ValidationError):
        parse_iso8601(text)


def test_written_times_read_back_as_the_same_instant_in_utc():
    value = datetime(2024, 11, 3, 1, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert isoformat(value) == "2024-11-03T05:30:00Z"
    assert parse_iso8601(isoformat(value)) == value


def test_fake_clock_moves_only_when_advanced():
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(minutes=5))
    clock.sleep(1.5)
    assert clock.now() == datetime(2024, 1, 1, 0, 5, 1, 500000, tzinfo=UTC)
    assert clock.monotonic() == 301.5 and clock.sleeps == [1.5]
    with pytest.raises(ValueError, match="cannot move backwards"):
        clock.advance(-1)


def test_both_clocks_satisfy_the_clock_protocol():
    assert isinstance(SystemClock(), Clock) and isinstance(FakeClock(), Clock)
    assert SystemClock().now().tzinfo is not None
