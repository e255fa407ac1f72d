"""Feature timestamps are instants: any offset reads as the same moment in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.errors import ValidationError
from shared.ml.feature_utils import latest_at_or_before, utc_instant

pytestmark = pytest.mark.features

NOON_UTC = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("offset_minutes", [330, -300, -240, 60, 540, -600, 345, 720, -30, 600])
def test_an_offset_time_is_the_same_instant_in_utc(offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    local = NOON_UTC.astimezone(zone)
    converted = utc_instant(local)
    assert converted == NOON_UTC
    assert converted.utcoffset() == timedelta(0)
    assert (converted.hour, converted.minute) == (12, 0)


def test_a_utc_time_is_kept() -> None:
    assert utc_instant(NOON_UTC) == NOON_UTC


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        utc_instant(datetime(2026, 3, 1, 12, 0))


def test_times_an_hour_apart_across_zones_keep_their_order() -> None:
    india = utc_instant(
        datetime(2026, 3, 1, 17, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    )
    new_york = utc_instant(datetime(2026, 3, 1, 7, 30, tzinfo=timezone(timedelta(hours=-5))))
    assert india < new_york


TIMES = [NOON_UTC + timedelta(hours=h) for h in (0, 1, 5)]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(-1, None), (0, 0), (0.5, 0), (1, 1), (4.99, 1), (5, 2), (48, 2)],
)
def test_latest_at_or_before_picks_the_last_time_not_after(
    hours: float, expected: int | None
) -> None:
    assert latest_at_or_before(TIMES, NOON_UTC + timedelta(hours=hours)) == expected


def test_nothing_is_latest_in_an_empty_history() -> None:
    assert latest_at_or_before([], NOON_UTC) is None
