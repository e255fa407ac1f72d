"""Held-out variants: point-in-time joins, exact money, freshness and online writes."""

from __future__ import annotations

import pytest

from tests.utils.features import FEATURES_DB, ago, at, feature, row

pytestmark = [pytest.mark.features, FEATURES_DB]

HOUR = 3600
TRIP = [feature("fare", "decimal"), feature("rides", "int64")]


def test_entity_rows_at_minus_three_thirty_join_by_instant(features_api):
    features_api.view("trip", TRIP)
    features_api.backfill(
        "trip",
        [row("d1", at(0), fare=1, rides=10), row("d1", at(4), fare=1, rides=20)],
    )
    # 23:00-03:30 the day before is 02:30Z; 00:30-03:30 is 04:00Z.
    rows = features_api.training_set(
        [("d1", "2026-02-28T23:00:00-03:30"), ("d1", "2026-03-01T00:30:00-03:30")],
        ["trip:rides"],
    )
    assert [r["values"]["trip:rides"] for r in rows] == [10, 20]


def test_rows_sent_at_minus_eight_are_stored_at_their_instant(features_api):
    features_api.view("trip", TRIP)
    # 20:00-08:00 on Feb 28 is 04:00Z on Mar 1.
    features_api.backfill("trip", [row("d2", "2026-02-28T20:00:00-08:00", fare=1, rides=3)])
    rows = features_api.training_set([("d2", at(3)), ("d2", at(5))], ["trip:rides"])
    assert [r["values"]["trip:rides"] for r in rows] == [None, 3]


def test_a_long_fare_and_a_three_value_mean_keep_their_digits(features_api):
    features_api.view("trip", TRIP)
    body = (
        '{"rows": [{"entity_key": "d3", "event_time": "2026-03-01T00:00:00Z",'
        ' "values": {"fare": 7777777777777777.77, "rides": 1}}]}'
    )
    features_api.backfill("trip", body)
    features_api.backfill(
        "trip",
        [row("d4", at(1), fare=0.7, rides=1), row("d5", at(1), fare=0.1, rides=1)],
    )
    [result] = features_api.training_set([("d3", at(2))], ["trip:fare"])
    assert result["values"]["trip:fare"] == "7777777777777777.77"
    assert features_api.statistics("trip", at(0.5), at(2))["fare"]["mean"] == "0.4"


def test_two_pushed_drivers_survive_a_materialisation_of_older_history(features_api):
    features_api.view("trip", TRIP)
    features_api.backfill(
        "trip", [row("p1", ago(10), fare=1, rides=1), row("p2", ago(10), fare=2, rides=2)]
    )
    features_api.push("trip", [row("p1", ago(0.5), fare=3, rides=30)])
    features_api.push("trip", [row("p2", ago(0.2), fare=4, rides=40)])
    features_api.materialize("trip", as_of=ago(6))
    assert features_api.online_values("trip", "p1", "p2") == {
        "p1": {"fare": "3", "rides": 30},
        "p2": {"fare": "4", "rides": 40},
    }


def test_drivers_listed_newest_row_first_get_each_rows_own_values(features_api):
    features_api.view("trip", TRIP)
    features_api.backfill(
        "trip",
        [
            row("d6", at(0), fare=1, rides=6),
            row("d9", at(0), fare=1, rides=9),
            row("d6", at(5), fare=1, rides=60),
        ],
    )
    rows = features_api.training_set([("d6", at(8)), ("d9", at(2)), ("d6", at(1))], ["trip:rides"])
    assert [(r["entity_key"], r["values"]["trip:rides"]) for r in rows] == [
        ("d6", 60),
        ("d9", 9),
        ("d6", 6),
    ]


def test_a_two_hour_ttl_drops_values_a_few_days_old(features_api):
    features_api.view("trip", TRIP, ttl=2 * HOUR)
    features_api.backfill("trip", [row("d7", at(0), fare=5, rides=5)])
    rows = features_api.training_set(
        [("d7", at(1)), ("d7", at(24 * 5 + 1)), ("d7", at(24 * 2 + 1.5))], ["trip:rides"]
    )
    assert [r["values"]["trip:rides"] for r in rows] == [5, None, None]
