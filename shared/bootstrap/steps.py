"""The bootstrap steps: each takes one adapter, creates what is missing and reports what it did."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from shared.clients.consul import ServiceRegistry
from shared.errors import ConflictError
from shared.events.base import EventBus
from shared.events.schema import PLATFORM_TOPICS
from shared.search.base import SearchIndex
from shared.search.bootstrap import ensure_indices
from shared.search.mappings import PLATFORM_INDICES
from shared.services import SERVICES
from shared.storage.base import ObjectStore
from shared.storage.bootstrap import PLATFORM_BUCKETS, ensure_buckets

# Configuration every deployment starts from; operators may change it later (never overwritten).
KV_DEFAULTS: dict[str, str] = {
    **{f"synapse/services/{name}/port": str(spec.port) for name, spec in SERVICES.items()},
    "synapse/events/topics": json.dumps(PLATFORM_TOPICS, sort_keys=True),
}


def bootstrap_kafka(bus: EventBus, topics: Mapping[str, int] = PLATFORM_TOPICS) -> list[str]:
    """Create each missing topic with its partitions (brokers do not auto-create); return them."""
    existing = set(bus.list_topics())
    created = []
    for name, partitions in topics.items():
        if name not in existing:
            bus.create_topic(name, partitions)
            created.append(name)
        found = bus.partition_count(name)
        if found != partitions:
            raise ConflictError(
                f"topic {name!r} has {found} partitions, the platform needs {partitions}",
                details={"topic": name, "partitions": found},
            )
    return created


def bootstrap_consul(
    registry: ServiceRegistry, defaults: Mapping[str, str] = KV_DEFAULTS
) -> list[str]:
    """Write each KV default that is not set yet and return the keys written."""
    return [
        key for key, value in defaults.items() if registry.kv_put(key, value, only_if_absent=True)
    ]


def kafka_step(bus: EventBus) -> str:
    """Run the Kafka step and describe its outcome."""
    created = bootstrap_kafka(bus)
    return f"{len(PLATFORM_TOPICS)} topics ready, {len(created)} created"


def storage_step(store: ObjectStore) -> str:
    """Run the bucket step and describe its outcome."""
    created = ensure_buckets(store)
    return f"{len(PLATFORM_BUCKETS)} buckets ready, {len(created)} created"


def search_step(index: SearchIndex) -> str:
    """Run the index step and describe its outcome."""
    created = ensure_indices(index)
    return f"{len(PLATFORM_INDICES)} indices ready, {len(created)} created"


def consul_step(registry: ServiceRegistry) -> str:
    """Run the KV step and describe its outcome."""
    written = bootstrap_consul(registry)
    return f"{len(KV_DEFAULTS)} KV defaults ready, {len(written)} written"


STEPS: dict[str, Callable[[Any], str]] = {
    "kafka": kafka_step,
    "storage": storage_step,
    "search": search_step,
    "consul": consul_step,
}
# What `all` runs, in this order.
ALL_STEPS: tuple[str, ...] = ("kafka", "storage", "search", "consul")
