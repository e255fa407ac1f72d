"""The feature store under failure: a dead cache, and writers that land mid-materialisation."""

from __future__ import annotations

from typing import Any

import pytest

from services.features.models import FeatureRow, Materialization
from shared.backends import ports, use_backend
from shared.errors import ServiceUnavailableError
from shared.events import schema
from shared.events.memory import InMemoryEventBus
from tests.utils.events import drain
from tests.utils.features import (
    FEATURES_DB,
    DownCache,
    InterruptedCache,
    ago,
    feature,
    row,
)

pytestmark = [pytest.mark.features, FEATURES_DB]

DAY_SECONDS = 24 * 3600
SCORE = [
    feature("score", "decimal", {"op": "scale", "factor": 100}, {"op": "round", "places": 1}),
    feature("visits", "int64"),
]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Return a context: what the service defers until commit runs when the context ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True, using="models_db")


def materialized_events() -> list[schema.EventEnvelope]:
    consumer = ports().bus.subscribe("features.updates", group_id="chaos")
    return [schema.read_event(event) for event in drain(consumer)]


def test_online_reads_fall_back_to_fresh_offline_values_when_the_cache_is_down(features_api):
    features_api.view("score", SCORE, ttl=DAY_SECONDS)
    features_api.backfill(
        "score",
        [
            row("fresh", ago(30), score=0.1, visits=1),
            row("fresh", ago(3), score=0.1234, visits=2),
            row("stale", ago(24 * 2 + 2), score=0.5, visits=9),
        ],
    )
    with use_backend("cache", DownCache()):
        answer = features_api.online("score", "fresh", "stale", "unknown")
    assert answer["source"] == "offline"
    assert {e["entity_key"]: e["values"] for e in answer["entities"]} == {
        "fresh": {"score": "12.3", "visits": 2},
        "stale": None,
        "unknown": None,
    }


def test_materialising_into_a_dead_cache_answers_503_and_records_nothing(features_api, committed):
    features_api.view("score", SCORE)
    features_api.backfill("score", [row("c1", ago(2), score=0.25, visits=4)])
    with committed(), use_backend("cache", DownCache()):
        response = features_api.post("/api/v1/feature-views/score/materialize", {})
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["error"] == "cache_unavailable"
    assert not Materialization.objects.exists() and materialized_events() == []
    # The cache is back: the next run serves the values and is announced once.
    with committed():
        assert features_api.materialize("score")["rows"] == 1
    assert features_api.online_values("score", "c1") == {"c1": {"score": "25.0", "visits": 4}}
    assert [e.data["rows"] for e in materialized_events()] == [1]


def interrupted_by(features_api: Any, make_request: Any) -> tuple[InterruptedCache, list[Any]]:
    answers: list[Any] = []
    return InterruptedCache(lambda: answers.append(make_request())), answers


def test_a_backfill_landing_mid_materialisation_is_refused_and_stores_nothing(features_api):
    features_api.view("score", SCORE)
    features_api.backfill("score", [row("c1", ago(5), score=0.5, visits=1)])
    late = {"rows": [row("c1", ago(4), score=0.9, visits=7)]}
    cache, answers = interrupted_by(
        features_api, lambda: features_api.post("/api/v1/feature-views/score/rows", late)
    )
    with use_backend("cache", cache):
        assert features_api.materialize("score")["rows"] == 1
        [refused] = answers
        assert refused.status_code == 409
        assert refused["Content-Type"] == "application/problem+json"
        assert FeatureRow.objects.filter(entity_key="c1").count() == 1
        # Retried once the materialisation is over, the backfill goes through.
        features_api.backfill("score", late["rows"])
        assert FeatureRow.objects.filter(entity_key="c1").count() == 2


def test_a_push_landing_mid_materialisation_is_refused_then_wins_when_retried(features_api):
    features_api.view("score", SCORE)
    features_api.backfill("score", [row("c1", ago(5), score=0.5, visits=1)])
    fresh = {"rows": [row("c1", ago(1), score=0.75, visits=8)]}
    cache, answers = interrupted_by(
        features_api, lambda: features_api.post("/api/v1/online/score", fresh)
    )
    with use_backend("cache", cache):
        features_api.materialize("score", as_of=ago(2))
        assert [a.status_code for a in answers] == [409]
        assert features_api.online_values("score", "c1") == {"c1": {"score": "50.0", "visits": 1}}
        assert features_api.push("score", fresh["rows"])["online"] == 1
        assert features_api.online_values("score", "c1") == {"c1": {"score": "75.0", "visits": 8}}


def test_a_second_materialisation_of_the_same_view_waits_its_turn(features_api, committed):
    features_api.view("score", SCORE)
    features_api.backfill(
        "score",
        [row("c1", ago(3), score=0.5, visits=1), row("c2", ago(3), score=0.6, visits=2)],
    )
    cache, answers = interrupted_by(
        features_api, lambda: features_api.post("/api/v1/feature-views/score/materialize", {})
    )
    with committed(), use_backend("cache", cache):
        assert features_api.materialize("score")["rows"] == 2
    assert [a.status_code for a in answers] == [409]
    assert Materialization.objects.count() == 1
    assert [e.data["rows"] for e in materialized_events()] == [2]


class DownBus(InMemoryEventBus):
    """A bus whose brokers are unreachable for producers."""

    def publish(self, *args: Any, **kwargs: Any) -> Any:
        raise ServiceUnavailableError("event bus unavailable: no broker answered")


def test_an_announcement_lost_to_a_bus_outage_keeps_the_materialisation(features_api, committed):
    features_api.view("score", SCORE)
    features_api.backfill("score", [row("c1", ago(2), score=0.25, visits=4)])
    with use_backend("events", DownBus()), committed():
        assert features_api.materialize("score")["rows"] == 1
    assert Materialization.objects.count() == 1
    assert features_api.online_values("score", "c1") == {"c1": {"score": "25.0", "visits": 4}}
