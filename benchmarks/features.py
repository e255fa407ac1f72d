"""Feature store benchmark against the local stack (`make infra-up`); numbers, not asserts.

    python -m benchmarks features [--calls N] [--entities N] [--join-rows N]

Runs the feature store's Django app in this process (no HTTP server) with models_db on the
stack's PostgreSQL and, for comparison, on a SQLite file (the embedded default):

- online reads: ``GET /api/v1/online/<view>`` for 1 and for 100 entities, with the online
  store on the stack's Redis and on the in-process cache (the embedded default), and the
  cache's own reads of the same keys (no Django, no SQL) beside them;
- a point-in-time join: ``POST /api/v1/training-sets`` over an offline store of
  ``--entities`` x 100 rows, asked for ``--join-rows`` entity rows in requests of 10,000
  (the API's limit), each row at a random moment between two value times.

The stack's servers come from `python -m infra env` (SYNAPSE_* variables) or their local
defaults; a server that is down skips its series with a line saying so.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from benchmarks.timing import latencies
from shared import backends
from shared.cache.base import Cache
from shared.cache.memory import InMemoryCache
from shared.cache.redis import RedisCache, make_redis_client
from shared.clients.inprocess import InProcessTransport
from shared.infra_settings import InfraSettings

ALIAS = "models_db"
TTL = 7 * 24 * 3600
EVENTS_PER_ENTITY = 100
JOIN_BATCH = 10_000
ONLINE_BATCHES = (1, 100)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def reachable(address: str, default_port: int) -> bool:
    """Return whether a TCP connection to ``address`` succeeds within a second."""
    parts = urlsplit(address if "//" in address else f"//{address}")
    try:
        socket.create_connection((parts.hostname, parts.port or default_port), 1.0).close()
    except OSError:
        return False
    return True


def rate_line(label: str, items_per_call: int, seconds: list[float]) -> str:
    """Return calls/s, items/s, p50 and p99 of a series of calls."""
    ordered = sorted(seconds)
    calls = len(seconds) / sum(seconds)
    p50 = statistics.median(ordered) * 1e3
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3
    return (
        f"{label:<44} {items_per_call:>3} entities: {calls:8.0f} reads/s "
        f"{calls * items_per_call:9.0f} entities/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
    )


@contextmanager
def django_on(url: str) -> Iterator[None]:
    """Serve models_db from ``url`` (migrated) inside the block."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from services.django_project.databases import parse_database_url

    def point(entry: dict[str, Any]) -> None:
        connections.close_all()
        settings.DATABASES[ALIAS] = entry
        if hasattr(connections._connections, ALIAS):
            del connections[ALIAS]
        connections.__dict__.pop("settings", None)

    saved = dict(settings.DATABASES[ALIAS])
    point(parse_database_url(url))
    try:
        call_command("migrate", database=ALIAS, interactive=False, verbosity=0)
        yield
    finally:
        point(saved)


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Return a response's JSON, or stop with its problem when the status differs."""
    if response.status_code != status:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text}")
    return response.json()


def declare(api: httpx.Client, tag: str) -> str:
    """Declare an entity and a two-feature view; return the view's name."""
    name = f"bench-{tag}-{int(time.time() * 1000)}"
    ok(api.post("/api/v1/entities", json={"name": name, "join_key": "id"}), 201)
    features = [{"name": "spend", "dtype": "decimal"}, {"name": "orders", "dtype": "int64"}]
    body = {
        "name": name,
        "entity": name,
        "owner": "bench",
        "online_ttl_seconds": TTL,
        "features": features,
    }
    ok(api.post("/api/v1/feature-views", json=body), 201)
    return name


def drop(name: str) -> None:
    """Remove a view (its rows with it) and its entity."""
    from services.features.models import Entity, FeatureView

    FeatureView.objects.filter(name=name).delete()
    Entity.objects.filter(name=name).delete()


def online(api: httpx.Client, cache: Cache, label: str, entities: int, calls: int) -> None:
    """Print online read rates for 1 and 100 entities through the API and the cache alone."""
    view = declare(api, "online")
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        rows = [
            {
                "entity_key": f"e{n}",
                "event_time": now.isoformat(),
                "values": {"spend": n, "orders": n},
            }
            for n in range(entities)
        ]
        for start in range(0, len(rows), 1000):
            ok(api.post(f"/api/v1/online/{view}", json={"rows": rows[start : start + 1000]}), 201)
        rng = random.Random(0)
        for batch in ONLINE_BATCHES:
            keys = [f"e{n}" for n in rng.sample(range(entities), batch)]
            params = httpx.QueryParams([("entity_key", key) for key in keys])
            cache_keys = [f"features:online:{view}:{key}" for key in keys]

            def through_api(p: httpx.QueryParams = params) -> object:
                return ok(api.get(f"/api/v1/online/{view}", params=p))

            def from_cache(k: list[str] = cache_keys) -> object:
                return cache.get_many_json(k)

            api_seconds = latencies(calls, through_api, warmup=10)
            print(rate_line(f"API GET online, {label}", batch, api_seconds))
            seconds = latencies(calls, from_cache, warmup=10)
            print(rate_line(f"cache get_many_json only, {label}", batch, seconds))
    finally:
        for n in range(entities):
            cache.delete(f"features:online:{view}:e{n}")
        drop(view)


def point_in_time(api: httpx.Client, label: str, entities: int, join_rows: int) -> None:
    """Print the time of a point-in-time join of ``join_rows`` entity rows."""
    from services.features.models import FeatureRow, FeatureView

    view_name = declare(api, "join")
    try:
        view = FeatureView.objects.get(name=view_name)
        started = time.perf_counter()
        batch: list[FeatureRow] = []
        for n in range(entities):
            for hour in range(EVENTS_PER_ENTITY):
                values = {"spend": f"{n}.{hour:02d}", "orders": hour}
                moment = T0 + timedelta(hours=hour)
                batch.append(
                    FeatureRow(view=view, entity_key=f"e{n}", event_time=moment, values=values)
                )
            if len(batch) >= 5000:
                FeatureRow.objects.bulk_create(batch)
                batch = []
        FeatureRow.objects.bulk_create(batch)
        loaded = time.perf_counter() - started
        stored = entities * EVENTS_PER_ENTITY
        rng = random.Random(0)
        features = [f"{view_name}:spend", f"{view_name}:orders"]
        seconds, answered = [], 0
        for start in range(0, join_rows, JOIN_BATCH):
            size = min(JOIN_BATCH, join_rows - start)
            entity_rows = [
                {
                    "entity_key": f"e{rng.randrange(entities)}",
                    "event_time": (
                        T0 + timedelta(minutes=rng.randrange(EVENTS_PER_ENTITY * 60))
                    ).isoformat(),
                }
                for _ in range(size)
            ]
            body = {"entity_rows": entity_rows, "features": features}
            began = time.perf_counter()
            answer = ok(api.post("/api/v1/training-sets", json=body))
            seconds.append(time.perf_counter() - began)
            answered += len(answer["rows"])
        total = sum(seconds)
        if not seconds:
            return
        print(
            f"point-in-time join, {label:<12} {answered:>7} entity rows over {stored} stored: "
            f"{total:6.2f} s  {answered / total:8.0f} rows/s  "
            f"({len(seconds)} requests, p50 {statistics.median(seconds):5.2f} s; "
            f"loading the store took {loaded:5.1f} s)"
        )
    finally:
        drop(view_name)


def databases(infra: InfraSettings, scratch: Path) -> list[tuple[str, str | None]]:
    """Return (label, URL or None when its server is down) for PostgreSQL and SQLite."""
    postgres = infra.database_url(ALIAS)
    up = reachable(postgres, 5432)
    return [
        ("PostgreSQL", postgres if up else None),
        ("SQLite", f"sqlite:///{scratch / 'models_db.sqlite3'}"),
    ]


def caches(infra: InfraSettings) -> list[tuple[str, Cache | None]]:
    """Return (label, cache or None when Redis is down) for Redis and the in-process cache."""
    redis = RedisCache(make_redis_client(infra)) if reachable(infra.redis_url, 6379) else None
    return [("Redis", redis), ("in-process", InMemoryCache())]


def run(calls: int, entities: int, join_rows: int) -> None:
    """Run every series and print one line each."""
    from services.django_project.wsgi import get_wsgi_application_for

    infra = InfraSettings()
    app = get_wsgi_application_for("features")
    transport = InProcessTransport({"features": app})
    with tempfile.TemporaryDirectory() as scratch, backends.use_backend("events", _quiet_bus()):
        for db_label, url in databases(infra, Path(scratch)):
            if url is None:
                print(f"{db_label}: skipped (server down; `make infra-up`)")
                continue
            with (
                django_on(url),
                httpx.Client(transport=transport, base_url="http://features") as api,
            ):
                for cache_label, cache in caches(infra):
                    if cache is None:
                        print(f"{cache_label}: skipped (server down; `make infra-up`)")
                        continue
                    with backends.use_backend("cache", cache):
                        online(api, cache, f"{cache_label} + {db_label}", entities, calls)
                point_in_time(api, db_label, entities, join_rows)


def _quiet_bus() -> Any:
    # Materialisation announcements are not what is measured: they stay in this process.
    from shared.events.memory import InMemoryEventBus

    return InMemoryEventBus()


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks features", description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="reads per series")
    parser.add_argument("--entities", type=int, default=1000, help="entities in the store")
    parser.add_argument("--join-rows", type=int, default=100_000, help="entity rows to join")
    args = parser.parse_args(argv)
    if args.entities < max(ONLINE_BATCHES) or args.calls < 1 or args.join_rows < 0:
        parser.error(f"give --entities >= {max(ONLINE_BATCHES)}, --calls >= 1, --join-rows >= 0")
    run(args.calls, args.entities, args.join_rows)
    return 0
