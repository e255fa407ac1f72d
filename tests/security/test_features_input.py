"""Malformed or hostile feature store input is a 4xx problem and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.features.models import FeatureRow, FeatureView
from tests.utils.features import FEATURES_DB, at, feature, row

pytestmark = [pytest.mark.features, FEATURES_DB]

CARD = [
    feature("limit", "decimal", {"op": "shift", "by": 100}, {"op": "scale", "factor": 2}),
    feature("txns", "int64"),
]
ROWS = "/api/v1/feature-views/card/rows"


def refused(response: Any, status: int | None = None) -> dict[str, Any]:
    expected = (
        response.status_code if status is None and 400 <= response.status_code < 500 else status
    )
    assert response.status_code == expected, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["error"] and body["detail"]
    return body


@pytest.fixture
def card(features_api):
    """A card view holding one row; returns the API."""
    features_api.view("card", CARD)
    features_api.backfill("card", [row("k1", at(0), limit=50, txns=3)])
    return features_api


def served_before_and_after(api: Any) -> list[dict[str, Any]]:
    # 04:00+05:30 is 22:30Z the day before, before the stored row; 20:00-05:00 on Feb 28 is
    # 01:00Z on Mar 1, after it.
    rows = api.training_set(
        [("k1", "2026-03-01T04:00:00+05:30"), ("k1", "2026-02-28T20:00:00-05:00")],
        ["card:limit", "card:txns"],
    )
    return [r["values"] for r in rows]


UNCHANGED = [{"card:limit": None, "card:txns": None}, {"card:limit": "300", "card:txns": 3}]


@pytest.mark.parametrize(
    "body",
    [
        {"rows": [row("k1", "2026-03-01T00:10:00", limit=1, txns=1)]},
        {"rows": [row("k1", at(0.2), limit=1, txns=1, secret=1)]},
        {"rows": [row("k1", at(0.2), limit="1", txns=1)]},
        {"rows": [row("k1", at(0.2), limit=1, txns=1.5)]},
        {"rows": [row("k 1", at(0.2), limit=1, txns=1)]},
        {"rows": [row("k\u00851", at(0.2), limit=1, txns=1)]},
        {"rows": [{"entity_key": "k1", "event_time": at(0.2)}]},
        {"rows": [row("k1", "yesterday", limit=1, txns=1)]},
        {"rows": [row("k2", at(0.2), limit=1, txns=1), row("k1", at(0.2), limit=True, txns=1)]},
        {"rows": []},
        '{"rows": [{"entity_key": "k1", "event_time": "2026-03-01T00:10:00Z",'
        ' "values": {"limit": NaN, "txns": 1}}]}',
        '{"rows": [{"entity_key": "k1", "event_time": "2026-03-01T00:10:00Z",'
        ' "values": {"limit": 1, "txns": 1e400}}]}',
    ],
    ids=[
        "naive-time",
        "unknown-feature",
        "text-for-decimal",
        "fraction-for-int64",
        "space-in-key",
        "control-char-in-key",
        "no-values",
        "not-a-time",
        "bad-second-row",
        "empty-batch",
        "nan-literal",
        "beyond-a-double",
    ],
)
def test_bad_rows_are_refused_and_the_stored_history_is_served_unchanged(card, body):
    refused(card.post(ROWS, body))  # 422, or 400 for JSON that is not JSON (NaN)
    assert FeatureRow.objects.count() == 1
    assert served_before_and_after(card) == UNCHANGED


@pytest.mark.parametrize(
    ("entity_rows", "features", "status"),
    [
        ([{"entity_key": "k1", "event_time": "2026-03-01T01:00:00"}], ["card:txns"], 422),
        ([{"entity_key": "k1", "event_time": at(1)}], ["card:secret"], 404),
        ([{"entity_key": "k1", "event_time": at(1)}], ["other:txns"], 404),
        ([{"entity_key": "k1", "event_time": at(1)}], ["card.txns"], 422),
        ([{"entity_key": "k1", "event_time": at(1), "x": 1}], ["card:txns"], 422),
        ([{"entity_key": "k1", "event_time": at(1)}] * 10_001, ["card:txns"], 422),
    ],
    ids=["naive", "unknown-feature", "unknown-view", "bad-reference", "extra-field", "too-many"],
)
def test_bad_training_set_requests_are_refused(card, entity_rows, features, status):
    body = {"entity_rows": entity_rows, "features": features}
    refused(card.post("/api/v1/training-sets", body), status)
    assert served_before_and_after(card) == UNCHANGED


@pytest.mark.parametrize(
    "features",
    [
        [feature("limit", "money")],
        [feature("name", "string", {"op": "scale", "factor": 2})],
        [feature("limit", "decimal"), feature("limit", "int64")],
        [feature("a:b", "decimal")],
        [feature("limit", "decimal", {"op": "clip", "low": 5, "high": 1})],
        [],
    ],
    ids=["dtype", "transform-on-text", "duplicate", "colon", "clip-bounds", "no-features"],
)
def test_bad_view_declarations_leave_the_view_as_it_was(card, features):
    body = {
        "name": "card",
        "entity": "customer",
        "owner": "risk-team",
        "online_ttl_seconds": 3600,
        "features": features,
    }
    refused(card.post("/api/v1/feature-views", body), 422)
    assert card.get("/api/v1/feature-views/card").json()["versions"] == [1]
    assert FeatureView.objects.get().online_ttl_seconds == 7 * 24 * 3600
    assert served_before_and_after(card) == UNCHANGED


def test_names_of_128_characters_are_accepted_and_129_are_not(features_api):
    assert features_api.entity("e" * 128, join_key="k" * 128)["name"] == "e" * 128
    too_long = features_api.post("/api/v1/entities", {"name": "e" * 129, "join_key": "id"})
    refused(too_long, 422)
