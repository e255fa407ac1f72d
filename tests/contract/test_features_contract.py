"""The feature store API and its features.materialized event keep their documented shapes."""

from __future__ import annotations

import pytest

from shared.backends import ports
from shared.events import schema
from tests.utils.events import drain
from tests.utils.features import FEATURES_DB, ago, at, feature, row

pytestmark = [pytest.mark.features, FEATURES_DB]

DAY_SECONDS = 24 * 3600
WALLET = [
    feature("balance", "decimal", {"op": "shift", "by": 1}, {"op": "scale", "factor": 3}),
    feature("logins", "int64"),
    feature("ratio", "float64"),
    feature("tier", "string"),
    feature("active", "bool"),
]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Return a context: what the service defers until commit runs when the context ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True, using="models_db")


def test_materialisation_announces_its_view_fresh_row_count_time_and_version(
    features_api, committed
):
    features_api.view("wallet", WALLET, ttl=DAY_SECONDS)
    features_api.backfill(
        "wallet",
        [
            row("w1", at(0), balance=1, logins=1, ratio=0.5, tier="a", active=True),
            row("w2", at(-24 * 4), balance=1, logins=1, ratio=0.5, tier="a", active=True),
        ],
    )
    # 08:30+05:30 is 03:00Z: w1 is three hours old, w2 four days (past its one-day TTL).
    with committed():
        done = features_api.materialize("wallet", as_of="2026-03-01T08:30:00+05:30")
    assert done == {"feature_view": "wallet", "rows": 1, "as_of": "2026-03-01T03:00:00Z"}
    with committed():
        features_api.materialize("wallet")
    events = [
        schema.read_event(e)
        for e in drain(ports().bus.subscribe("features.updates", group_id="contract"))
    ]
    assert [e.type.value for e in events] == ["features.materialized"] * 2
    assert all(e.source == "features" and e.key == "wallet" for e in events)
    assert events[0].data == {
        "feature_view": "wallet",
        "rows": 1,
        "as_of": "2026-03-01T03:00:00Z",
        "version": 1,
    }
    assert events[1].data["rows"] == 0


def test_training_rows_carry_typed_values_in_request_order(features_api):
    features_api.view("wallet", WALLET)
    body = (
        '{"rows": [{"entity_key": "w1", "event_time": "2026-03-01T00:00:00Z", "values":'
        ' {"balance": 98765432109876543.21, "logins": 9007199254740993, "ratio": 0.25,'
        ' "tier": "gold", "active": false}}]}'
    )
    features_api.backfill("wallet", body)
    refs = [f"wallet:{f['name']}" for f in WALLET]
    rows = features_api.training_set([("w1", at(1)), ("nobody", at(1))], refs)
    assert rows == [
        {
            "entity_key": "w1",
            "event_time": "2026-03-01T01:00:00Z",
            "values": {
                "wallet:balance": "296296296329629632.63",
                "wallet:logins": 9007199254740993,
                "wallet:ratio": 0.25,
                "wallet:tier": "gold",
                "wallet:active": False,
            },
        },
        {
            "entity_key": "nobody",
            "event_time": "2026-03-01T01:00:00Z",
            "values": dict.fromkeys(refs),
        },
    ]


def test_online_entries_state_their_event_time_in_utc_and_their_version(features_api):
    features_api.view("wallet", WALLET)
    when = ago(2)
    features_api.backfill(
        "wallet", [row("w1", when, balance=0.5, logins=2, ratio=1.5, tier="b", active=True)]
    )
    features_api.materialize("wallet")
    answer = features_api.online("wallet", "w1", "w9")
    assert answer == {
        "feature_view": "wallet",
        "source": "online",
        "entities": [
            {
                "entity_key": "w1",
                "values": {
                    "balance": "4.5",
                    "logins": 2,
                    "ratio": 1.5,
                    "tier": "b",
                    "active": True,
                },
                "event_time": when,
                "version": 1,
            },
            {"entity_key": "w9", "values": None, "event_time": None, "version": None},
        ],
    }


def test_offset_event_times_are_returned_as_the_same_instant_in_utc(features_api):
    features_api.view("wallet", WALLET)
    features_api.push(
        "wallet",
        [
            row(
                "w1",
                "2030-01-01T05:30:00+05:30",
                balance=0,
                logins=1,
                ratio=0,
                tier="c",
                active=False,
            )
        ],
    )
    [entity] = features_api.online("wallet", "w1")["entities"]
    assert entity["event_time"] == "2030-01-01T00:00:00Z"


def test_a_view_states_its_schema_owner_ttl_and_versions(features_api):
    body = features_api.view("wallet", WALLET, ttl=600)
    assert set(body) == {
        "name",
        "entity",
        "join_key",
        "owner",
        "online_ttl_seconds",
        "version",
        "features",
        "versions",
        "created_at",
    }
    assert (body["entity"], body["owner"], body["online_ttl_seconds"]) == (
        "customer",
        "risk-team",
        600,
    )
    assert body["features"][0] == {
        "name": "balance",
        "dtype": "decimal",
        "transforms": [{"op": "shift", "by": 1}, {"op": "scale", "factor": 3}],
    }
    assert features_api.view("wallet", WALLET, ttl=600, status=200)["versions"] == [1]


def test_statistics_are_exact_decimal_text(features_api):
    features_api.view("wallet", WALLET)
    features_api.backfill(
        "wallet",
        [
            row("a", at(0), balance=0.1, logins=1, ratio=0.1, tier="a", active=True),
            row("b", at(1), balance=0.6, logins=2, ratio=0.2, tier="a", active=True),
        ],
    )
    stats = features_api.statistics("wallet", at(0), at(2))
    assert set(stats) == {"balance", "logins", "ratio"}
    assert stats["balance"] == {
        "count": 2,
        "sum": "8.1",
        "mean": "4.05",
        "min": "3.3",
        "max": "4.8",
    }
    assert stats["logins"]["mean"] == "1.5"


def test_unknown_views_are_404_problems(features_api):
    response = features_api.get("/api/v1/feature-views/nope")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["error"] == "not_found"
