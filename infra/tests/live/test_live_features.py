"""The feature store on the real stack: its tables in models_db (PostgreSQL), its online store
in Redis through the cache adapter, its locks on Redis and its announcements on Kafka.

One module fixture declares an entity and a view, backfills offline rows and materialises
them; the tests then read the training set (point in time, entity rows in other time zones,
between two value times), the online values through the API and the keys Redis holds (with
their TTL), and watch a value go stale: Redis expires it and the API answers null for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from infra.tests.live.support import unique
from infra.tests.live.test_live_platform import real
from infra.tests.live.test_live_postgres import django_postgres  # noqa: F401 (fixture)
from shared import backends
from shared.bootstrap.runner import run_steps
from shared.cache.redis import make_redis_client
from shared.clients.inprocess import InProcessTransport
from shared.infra_settings import InfraSettings

TTL = 3600
CACHE_PREFIX = "synapse:cache:features:online"
KOLKATA = timezone(timedelta(hours=5, minutes=30))
NEW_YORK = timezone(timedelta(hours=-5))


@pytest.fixture(scope="module")
def ports(infra_settings) -> Iterator[InfraSettings]:
    """Serve the feature store's ports (cache, locks, events) from the real servers."""
    settings = real(infra_settings)
    results = run_steps(["kafka"], settings=settings)
    assert all(result.ok for result in results), [result.line() for result in results]
    with ExitStack() as stack:
        for port in ("cache", "locks", "events"):
            adapter = backends.create(port, settings=settings)
            stack.enter_context(backends.use_backend(port, adapter))
            if hasattr(adapter, "close"):
                stack.callback(adapter.close)
        yield settings


@pytest.fixture(scope="module")
def api(ports, django_postgres) -> Iterator[httpx.Client]:  # noqa: F811
    from services.django_project.wsgi import get_wsgi_application_for

    transport = InProcessTransport({"features": get_wsgi_application_for("features")})
    with httpx.Client(transport=transport, base_url="http://features") as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture(scope="module")
def store(api, ports) -> Iterator[dict[str, Any]]:
    """Declare, backfill and materialise one view; remove its rows and keys afterwards."""
    from services.features.models import Entity, FeatureView

    entity, view = unique("live-customer"), unique("live-spend")
    now = datetime.now(UTC).replace(microsecond=0)
    earlier, later = now - timedelta(minutes=40), now - timedelta(minutes=10)
    features = [
        {"name": "spend", "dtype": "decimal"},
        {"name": "orders", "dtype": "int64", "transforms": [{"op": "scale", "factor": 2}]},
    ]
    rows = [
        # "a" changes between the two moments; "b" has one value; "stale" is past its TTL.
        {"entity_key": "a", "event_time": iso(earlier), "values": {"spend": 10.1, "orders": 1}},
        {"entity_key": "a", "event_time": iso(later), "values": {"spend": 0.3, "orders": 4}},
        {"entity_key": "b", "event_time": iso(earlier), "values": {"spend": 7, "orders": 2}},
        {
            "entity_key": "stale",
            "event_time": iso(now - timedelta(seconds=TTL + 60)),
            "values": {"spend": 1, "orders": 1},
        },
    ]
    try:
        ok(api.post("/api/v1/entities", json={"name": entity, "join_key": "customer_id"}), 201)
        body = {
            "name": view,
            "entity": entity,
            "owner": "live-lane",
            "online_ttl_seconds": TTL,
            "features": features,
        }
        ok(api.post("/api/v1/feature-views", json=body), 201)
        ok(api.post(f"/api/v1/feature-views/{view}/rows", json={"rows": rows}), 201)
        materialised = ok(api.post(f"/api/v1/feature-views/{view}/materialize", json={}))
        yield {
            "view": view,
            "now": now,
            "earlier": earlier,
            "later": later,
            "materialised": materialised,
        }
    finally:
        FeatureView.objects.filter(name=view).delete()
        Entity.objects.filter(name=entity).delete()
        client = make_redis_client(ports)
        try:
            keys = list(client.scan_iter(match=f"{CACHE_PREFIX}:{view}:*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def test_the_offline_rows_live_in_postgresql(store):
    from django.db import connections

    from services.features.models import FeatureRow

    assert connections["models_db"].vendor == "postgresql"
    stored = FeatureRow.objects.filter(view__name=store["view"], entity_key="a")
    assert [row.values["spend"] for row in stored.order_by("event_time")] == ["10.1", "0.3"]


def test_training_set_is_point_in_time_correct_across_time_zones(api, store):
    between = store["earlier"] + (store["later"] - store["earlier"]) / 2
    entity_rows = [
        {"entity_key": "a", "event_time": iso(store["earlier"] - timedelta(minutes=1))},
        {"entity_key": "a", "event_time": iso(between.astimezone(KOLKATA))},
        {"entity_key": "a", "event_time": iso(store["later"].astimezone(NEW_YORK))},
        {"entity_key": "b", "event_time": iso(store["now"].astimezone(KOLKATA))},
        {"entity_key": "b", "event_time": iso(store["earlier"] + timedelta(seconds=TTL + 1))},
    ]
    view = store["view"]
    wanted = [f"{view}:spend", f"{view}:orders"]
    body = {"entity_rows": entity_rows, "features": wanted}
    answer = ok(api.post("/api/v1/training-sets", json=body))
    got = [
        (r["entity_key"], r["values"][wanted[0]], r["values"][wanted[1]]) for r in answer["rows"]
    ]
    assert got == [
        ("a", None, None),  # before the first value
        ("a", "10.1", 2),  # between the two values: the earlier one, exactly
        ("a", "0.3", 8),  # at the second value's time, given in New York time
        ("b", "7", 4),
        ("b", None, None),  # more than the TTL after the value: stale
    ]
    assert answer["rows"][1]["event_time"] == iso(between.astimezone(UTC)).replace("+00:00", "Z")


def test_materialisation_writes_each_fresh_entity_to_redis_with_its_ttl(store, ports):
    assert store["materialised"]["rows"] == 2
    client = make_redis_client(ports)
    try:
        view = store["view"]
        remaining = {key: client.pttl(f"{CACHE_PREFIX}:{view}:{key}") for key in ("a", "b")}
        stale = client.exists(f"{CACHE_PREFIX}:{view}:stale")
    finally:
        client.close()
    # The TTL left is what the value's age leaves of the view's TTL (10 and 40 minutes old).
    assert (TTL - 600 - 60) * 1000 < remaining["a"] <= (TTL - 600) * 1000
    assert (TTL - 2400 - 60) * 1000 < remaining["b"] <= (TTL - 2400) * 1000
    assert stale == 0


def test_online_read_serves_the_latest_values_from_redis(api, store):
    params = [("entity_key", key) for key in ("a", "b", "stale", "unknown")]
    answer = ok(api.get(f"/api/v1/online/{store['view']}", params=params))
    assert answer["source"] == "online"
    values = {item["entity_key"]: item["values"] for item in answer["entities"]}
    assert values == {
        "a": {"spend": "0.3", "orders": 8},
        "b": {"spend": "7", "orders": 4},
        "stale": None,
        "unknown": None,
    }


def test_a_value_going_stale_expires_from_redis_and_is_no_longer_served(api, store, ports):
    view, key = store["view"], unique("fading")
    # Observed TTL - 2 s ago: it has two seconds of freshness left when pushed.
    moment = datetime.now(UTC) - timedelta(seconds=TTL - 2)
    pushed = {"entity_key": key, "event_time": iso(moment), "values": {"spend": 5, "orders": 1}}
    assert ok(api.post(f"/api/v1/online/{view}", json={"rows": [pushed]}), 201)["online"] == 1
    first = ok(api.get(f"/api/v1/online/{view}", params={"entity_key": key}))
    assert first["entities"][0]["values"] == {"spend": "5", "orders": 2}
    client = make_redis_client(ports)
    try:
        assert 0 < client.pttl(f"{CACHE_PREFIX}:{view}:{key}") <= 2000
        deadline = time.monotonic() + 10
        while client.exists(f"{CACHE_PREFIX}:{view}:{key}") and time.monotonic() < deadline:
            time.sleep(0.1)  # polling Redis for the expiry, bounded by the deadline
        assert not client.exists(f"{CACHE_PREFIX}:{view}:{key}")
    finally:
        client.close()
    later = ok(api.get(f"/api/v1/online/{view}", params={"entity_key": key}))
    assert later["entities"][0]["values"] is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/training-sets", {"entity_rows": [{"entity_key": "a"}], "features": ["x:y"]}),
        ("/api/v1/training-sets", {"entity_rows": "a", "features": []}),
        ("/api/v1/feature-views", {"name": "x"}),
        ("/api/v1/entities", ["not", "an", "object"]),
    ],
)
def test_malformed_feature_requests_are_4xx_problems(api, store, path, body):
    answer = api.post(path, json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"]


def test_naive_and_malformed_times_are_refused(api, store):
    view = store["view"]
    for moment in ("2026-03-01T10:00:00", "yesterday"):
        rows = [{"entity_key": "a", "event_time": moment, "values": {"spend": 1}}]
        answer = api.post(f"/api/v1/feature-views/{view}/rows", json={"rows": rows})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    headers = {"Content-Type": "application/json"}
    broken = api.post(f"/api/v1/feature-views/{view}/rows", content=b"{rows:", headers=headers)
    assert broken.status_code == 400, broken.text
    assert broken.headers["content-type"] == "application/problem+json"
