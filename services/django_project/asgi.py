"""Build an ASGI app that serves one Django service's URLconf."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from services.django_project.wsgi import configure_django

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


@functools.cache
def get_asgi_application_for(service: str) -> ASGIApp:
    """Return an ASGI app that answers with the given service's URLconf only."""
    configure_django()
    from django.core.handlers.asgi import ASGIHandler

    from services.django_project.middleware import SERVICE_KEY, urlconf_for

    urlconf_for(service)
    handler = ASGIHandler()

    async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(service, receive, send)
            return
        await handler({**scope, SERVICE_KEY: service}, receive, send)

    return application


async def _lifespan(service: str, receive: Receive, send: Send) -> None:
    # Start and stop of the server: announce this instance to discovery while it runs.
    import anyio.to_thread

    from shared.discovery import deregister_instance, register_instance

    registration = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            registration = await anyio.to_thread.run_sync(register_instance, service)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await anyio.to_thread.run_sync(deregister_instance, registration)
            await send({"type": "lifespan.shutdown.complete"})
            return
