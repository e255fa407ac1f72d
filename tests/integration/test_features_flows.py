"""Feature store flows: backfill, point-in-time training sets, materialisation, online reads."""

from __future__ import annotations

import pytest

from shared.backends import ports
from shared.events import schema
from tests.utils.events import drain
from tests.utils.features import FEATURES_DB, ago, at, feature, row

pytestmark = [pytest.mark.features, FEATURES_DB]

DAY_SECONDS = 24 * 3600
SPEND = [
    feature("spend", "decimal", {"op": "shift", "by": 10}, {"op": "scale", "factor": 2}),
    feature("orders", "int64"),
]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Return a context: what the service defers until commit runs when the context ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True, using="models_db")


def test_training_set_takes_the_latest_value_at_or_before_each_row(features_api):
    features_api.view("spend", SPEND)
    features_api.backfill(
        "spend",
        [row("c1", at(0), spend=5, orders=1), row("c1", at(6), spend=20, orders=2)],
    )
    rows = features_api.training_set(
        [("c1", at(-1)), ("c1", at(0)), ("c1", at(3)), ("c1", at(6)), ("c1", at(9))],
        ["spend:spend", "spend:orders"],
    )
    assert [r["values"] for r in rows] == [
        {"spend:spend": None, "spend:orders": None},
        {"spend:spend": "30", "spend:orders": 1},
        {"spend:spend": "30", "spend:orders": 1},
        {"spend:spend": "60", "spend:orders": 2},
        {"spend:spend": "60", "spend:orders": 2},
    ]


def test_entity_rows_in_other_zones_join_by_instant(features_api):
    features_api.view("spend", SPEND)
    features_api.backfill(
        "spend",
        [row("c1", at(0), spend=1, orders=1), row("c1", at(2), spend=2, orders=2)],
    )
    # 06:30+05:30 is 01:00Z (after the first value, before the second); 20:30-05:00 the
    # previous day is 01:30Z.
    rows = features_api.training_set(
        [("c1", "2026-03-01T06:30:00+05:30"), ("c1", "2026-02-28T20:30:00-05:00")],
        ["spend:orders"],
    )
    assert [r["values"]["spend:orders"] for r in rows] == [1, 1]
    assert [r["event_time"] for r in rows] == ["2026-03-01T01:00:00Z", "2026-03-01T01:30:00Z"]


def test_rows_stored_with_an_offset_are_placed_at_their_instant(features_api):
    features_api.view("spend", SPEND)
    # 03:00+05:30 is 21:30Z on the day before: before every entity row below.
    features_api.backfill(
        "spend",
        [row("c1", "2026-03-01T03:00:00+05:30", spend=0, orders=7)],
    )
    rows = features_api.training_set([("c1", at(-2)), ("c1", at(1))], ["spend:orders"])
    assert [r["values"]["spend:orders"] for r in rows] == [7, 7]


def test_late_backfilled_history_does_not_hide_newer_values(features_api):
    features_api.view("spend", SPEND)
    features_api.backfill("spend", [row("c1", at(10), spend=0, orders=10)])
    features_api.backfill(
        "spend",
        [row("c1", at(2), spend=0, orders=2), row("c1", at(4), spend=0, orders=4)],
    )
    rows = features_api.training_set(
        [("c1", at(3)), ("c1", at(5)), ("c1", at(12))], ["spend:orders"]
    )
    assert [r["values"]["spend:orders"] for r in rows] == [2, 4, 10]


def test_materialisation_serves_the_newest_row_even_when_it_arrived_first(features_api):
    features_api.view("spend", SPEND)
    features_api.backfill("spend", [row("c1", ago(1), spend=5, orders=3)])
    features_api.backfill("spend", [row("c1", ago(30), spend=1, orders=1)])
    features_api.materialize("spend")
    assert features_api.online_values("spend", "c1") == {"c1": {"spend": "30", "orders": 3}}


def test_materialised_values_are_transformed_and_announced(features_api, committed):
    features_api.view("spend", SPEND)
    features_api.backfill(
        "spend", [row("c1", ago(2), spend=7.5, orders=1), row("c2", ago(1), spend=0, orders=2)]
    )
    with committed():
        done = features_api.materialize("spend")
    assert done["rows"] == 2
    assert features_api.online_values("spend", "c1", "c2", "c3") == {
        "c1": {"spend": "35.0", "orders": 1},
        "c2": {"spend": "20", "orders": 2},
        "c3": None,
    }
    events = [
        schema.read_event(e)
        for e in drain(ports().bus.subscribe("features.updates", group_id="flows"))
    ]
    assert [(e.type.value, e.data["feature_view"], e.data["rows"]) for e in events] == [
        ("features.materialized", "spend", 2)
    ]


def test_values_older_than_the_ttl_are_not_served_online(features_api):
    features_api.view("spend", SPEND, ttl=DAY_SECONDS)
    features_api.backfill(
        "spend",
        [row("old", ago(24 * 3 + 1), spend=1, orders=1), row("new", ago(2), spend=1, orders=5)],
    )
    assert features_api.materialize("spend")["rows"] == 1
    assert features_api.online_values("spend", "old", "new") == {
        "old": None,
        "new": {"spend": "22", "orders": 5},
    }


def test_training_rows_do_not_take_values_older_than_the_ttl(features_api):
    features_api.view("spend", SPEND, ttl=DAY_SECONDS)
    features_api.backfill("spend", [row("c1", at(0), spend=0, orders=4)])
    rows = features_api.training_set(
        [("c1", at(23)), ("c1", at(24 * 2 + 1)), ("c1", at(24 * 9))], ["spend:orders"]
    )
    assert [r["values"]["spend:orders"] for r in rows] == [4, None, None]


def test_a_pushed_value_survives_an_older_materialisation(features_api):
    features_api.view("spend", SPEND)
    features_api.backfill("spend", [row("c1", ago(5), spend=1, orders=1)])
    features_api.push("spend", [row("c1", ago(1), spend=2, orders=9)])
    features_api.materialize("spend", as_of=ago(3))
    assert features_api.online_values("spend", "c1") == {"c1": {"spend": "24", "orders": 9}}


def test_money_keeps_every_digit_into_the_training_set(features_api):
    features_api.view("ledger", [feature("balance", "decimal")])
    body = (
        '{"rows": [{"entity_key": "c1", "event_time": "2026-03-01T00:00:00Z",'
        ' "values": {"balance": 12345678901234567.89}}]}'
    )
    features_api.backfill("ledger", body)
    [result] = features_api.training_set([("c1", at(1))], ["ledger:balance"])
    assert result["values"] == {"ledger:balance": "12345678901234567.89"}


def test_window_statistics_are_exact(features_api):
    features_api.view("ledger", [feature("balance", "decimal")])
    features_api.backfill(
        "ledger",
        [
            row("a", at(0), balance=0.1),
            row("b", at(1), balance=0.2),
            row("c", at(2), balance=0.4),
            row("d", at(30), balance=9),
        ],
    )
    stats = features_api.statistics("ledger", at(0), at(24))
    assert stats["balance"] == {
        "count": 3,
        "sum": "0.7",
        "mean": "0.2333333333333333333333333333",
        "min": "0.1",
        "max": "0.4",
    }


def test_mirrored_features_drifting_together_raise_one_alert(features_api):
    features_api.view("risk", [feature("balance", "float64"), feature("debt", "float64")])
    rows = []
    for i in range(16):
        base = (i * 7 % 16) / 4
        moved = base + 6
        rows.append(row(f"r{i}", at(i / 10), balance=base, debt=-base))
        rows.append(row(f"n{i}", at(100 + i / 10), balance=moved, debt=-moved))
    features_api.backfill("risk", rows)
    report = features_api.drift("risk", (at(0), at(50)), (at(100), at(150)))
    assert report["features"]["balance"]["drifted"] and report["features"]["debt"]["drifted"]
    assert [a["features"] for a in report["alerts"]] == [["balance", "debt"]]


def test_a_new_schema_version_keeps_old_rows_readable(features_api):
    features_api.view("spend", SPEND)
    features_api.backfill("spend", [row("c1", at(0), spend=1, orders=1)])
    evolved = features_api.view("spend", [*SPEND, feature("segment", "string")])
    assert (evolved["version"], evolved["versions"]) == (2, [1, 2])
    features_api.backfill("spend", [row("c2", at(0), spend=1, orders=2, segment="vip")])
    rows = features_api.training_set(
        [("c1", at(1)), ("c2", at(1))], ["spend:orders", "spend:segment", "spend:spend"]
    )
    assert [r["values"] for r in rows] == [
        {"spend:orders": 1, "spend:segment": None, "spend:spend": "22"},
        {"spend:orders": 2, "spend:segment": "vip", "spend:spend": "22"},
    ]
