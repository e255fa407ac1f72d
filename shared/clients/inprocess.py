"""Route HTTP requests by host to ASGI or WSGI apps running in this process."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import Any

import anyio.from_thread
import httpx


def is_asgi_app(app: Any) -> bool:
    """Return whether `app` is an ASGI callable (async `__call__(scope, receive, send)`)."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the bound method itself is inspected
    return call is not None and inspect.iscoroutinefunction(call)


class ASGIBridgeTransport(httpx.BaseTransport):
    """Serve sync requests from an ASGI app, each on a short-lived event loop of its own."""

    def __init__(self, app: Any, *, raise_app_exceptions: bool = False) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app for one request and return a fully read response."""
        request.read()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # The usual case (a test, a worker thread of a sync route): run the app right here.
            # A loop factory keeps whatever loop this thread had set, as it was.
            with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
                return runner.run(self._send(request))
        # Async code in this thread is blocked on this call, so its loop cannot serve the
        # app: a portal runs the app on a loop in a thread of its own.
        with anyio.from_thread.start_blocking_portal() as portal:
            return portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        # The body is already decoded, so its original encoding and length no longer apply.
        dropped = {b"content-encoding", b"content-length"}
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in dropped]
        return httpx.Response(response.status_code, headers=headers, content=content)


class InProcessTransport(httpx.BaseTransport):
    """Send each request to the app registered for its URL host; unknown hosts do not connect.

    Values may be ASGI apps (FastAPI), WSGI apps (Django) or ready httpx transports.
    """

    def __init__(self, apps: Mapping[str, Any], *, raise_app_exceptions: bool = False) -> None:
        self._transports: dict[str, httpx.BaseTransport] = {}
        self._raise = raise_app_exceptions
        for host, app in apps.items():
            self.mount(host, app)

    def mount(self, host: str, app: Any) -> None:
        """Register `app` to answer requests addressed to `host`."""
        self._transports[host.lower()] = self._wrap(app)

    def unmount(self, host: str) -> None:
        """Forget the app for `host`; later requests to it fail to connect."""
        self._transports.pop(host.lower(), None)

    @property
    def hosts(self) -> list[str]:
        """Return the hosts that have an app, sorted."""
        return sorted(self._transports)

    def _wrap(self, app: Any) -> httpx.BaseTransport:
        if isinstance(app, httpx.BaseTransport):
            return app
        if is_asgi_app(app):
            return ASGIBridgeTransport(app, raise_app_exceptions=self._raise)
        if callable(app):
            return httpx.WSGITransport(app=app, raise_app_exceptions=self._raise)
        raise TypeError(f"not an ASGI/WSGI app or httpx transport: {app!r}")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Dispatch `request` by host, raising httpx.ConnectError when no app answers it."""
        transport = self._transports.get(request.url.host.lower())
        if transport is None:
            raise httpx.ConnectError(
                f"no in-process app for host {request.url.host!r}", request=request
            )
        return transport.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transports."""
        for transport in self._transports.values():
            transport.close()
