"""Announce a running service instance to the discovery port on start-up, withdraw it on exit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread

from shared.backends import get_discovery
from shared.clients.consul import ServiceRegistration
from shared.errors import SynapseError
from shared.infra_settings import InfraSettings, get_infra_settings
from shared.services import SERVICES

logger = logging.getLogger(__name__)


def registration_for(service: str, settings: InfraSettings | None = None) -> ServiceRegistration:
    """Return how an instance of ``service`` is announced: host from settings, manifest port."""
    settings = settings or get_infra_settings()
    spec = SERVICES[service]
    return ServiceRegistration(
        service=service,
        host=settings.service_host,
        port=settings.service_port or spec.port,
        tags=("synapsenet", spec.framework),
    )


def register_instance(service: str) -> ServiceRegistration | None:
    """Register this instance; a registry that cannot be reached is logged, not fatal.

    Services still reach each other through their configured URLs, so a missing registry
    only degrades discovery; the health check re-announces nothing, so operators see the
    warning in the log.
    """
    if service not in SERVICES:
        return None
    registration = registration_for(service)
    try:
        get_discovery().register(registration)
    except SynapseError as exc:
        logger.warning("could not register %s with discovery: %s", service, exc.message)
        return None
    return registration


def deregister_instance(registration: ServiceRegistration | None) -> None:
    """Withdraw a registered instance; errors are logged because the process is stopping."""
    if registration is None:
        return
    try:
        get_discovery().deregister(registration.service_id)
    except SynapseError as exc:
        logger.warning("could not deregister %s: %s", registration.service_id, exc.message)


@asynccontextmanager
async def registered(service: str) -> AsyncIterator[ServiceRegistration | None]:
    """Keep this instance registered for the duration of the block (a FastAPI lifespan)."""
    registration = await anyio.to_thread.run_sync(register_instance, service)
    try:
        yield registration
    finally:
        await anyio.to_thread.run_sync(deregister_instance, registration)
