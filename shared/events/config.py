"""Event-bus settings, the table of backends and the factories that build a bus from them."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Any

import pydantic
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ValidationError
from shared.events.base import EventBus
from shared.infra_settings import InfraSettings

# Configured backend name -> "module:class" of the adapter, imported only when chosen.
BACKENDS: dict[str, str] = {
    "memory": "shared.events.memory:InMemoryEventBus",
    "kafka": "shared.events.kafka:KafkaEventBus",
}


class EventBusSettings(BaseSettings):
    """Event-bus settings, read from SYNAPSE_EVENTS_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="SYNAPSE_EVENTS_", extra="forbid")

    # Which adapter to use: a key of BACKENDS. The Kafka brokers and the replication factor
    # are infrastructure addresses, read from InfraSettings (SYNAPSE_KAFKA_*).
    backend: str = "memory"
    # Prefix of the Kafka client ids, so broker logs show which platform connected.
    client_id: str = "synapsenet"
    # A group member silent for this long is evicted and its partitions reassigned.
    session_timeout_ms: int = 6_000


def _backend_kwargs(settings: EventBusSettings, infra: InfraSettings) -> dict[str, Any]:
    if settings.backend == "memory":
        return {"session_timeout_ms": settings.session_timeout_ms}
    return {
        "bootstrap_servers": infra.kafka_servers(),
        "client_id": settings.client_id,
        "replication_factor": infra.kafka_replication_factor,
        "session_timeout_ms": settings.session_timeout_ms,
    }


def load_backend(name: str) -> Callable[..., EventBus]:
    """Return the adapter class configured under name, importing its module on demand."""
    target = BACKENDS.get(name)
    if target is None:
        raise ValidationError(
            f"unknown event-bus backend {name!r}", details={"choices": sorted(BACKENDS)}
        )
    module_name, class_name = target.split(":")
    adapter: Callable[..., EventBus] = getattr(importlib.import_module(module_name), class_name)
    return adapter


def create_bus(
    settings: EventBusSettings | Mapping[str, Any] | None = None,
    *,
    infra: InfraSettings | None = None,
) -> EventBus:
    """Build a new bus from settings (a settings object, a mapping, or the environment).

    ``infra`` gives the Kafka addresses; by default they come from the environment.
    """
    if settings is None or isinstance(settings, Mapping):
        try:
            settings = EventBusSettings(**(settings or {}))
        except pydantic.ValidationError as exc:
            raise ValidationError(
                "invalid event-bus settings",
                details={"errors": exc.errors(include_url=False, include_context=False)},
            ) from exc
    backend = load_backend(settings.backend)
    return backend(**_backend_kwargs(settings, infra or InfraSettings()))


@functools.lru_cache(maxsize=1)
def get_bus() -> EventBus:
    """Return the process-wide bus configured by the environment, built on first use."""
    return create_bus()


def reset_bus() -> None:
    """Close and forget the process-wide bus, so the next get_bus() builds a fresh one."""
    if get_bus.cache_info().currsize:
        get_bus().close()
    get_bus.cache_clear()
