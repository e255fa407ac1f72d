"""A TestClient that runs the app on an event loop of the calling thread.

Starlette's TestClient, used outside a ``with`` block, starts a portal (a new thread with its
own event loop) for every request, which costs more than most requests themselves. This one
runs each request's two portal calls on one fresh loop in the calling thread instead, as
``shared.clients.inprocess`` does for service clients; inside a ``with`` block, or when the
calling thread already runs a loop, it behaves as Starlette's own. It overrides the private
``_portal_factory`` of the pinned Starlette release.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient


class _CallingThreadPortal:
    """The part of anyio's BlockingPortal that TestClient uses, on a loop of this thread."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self._runner = runner

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call ``func`` on the loop (awaiting it when it returns an awaitable)."""

        async def on_loop() -> Any:
            result = func(*args)
            return await result if inspect.isawaitable(result) else result

        return self._runner.run(on_loop())


class LocalTestClient(TestClient):
    """Starlette's TestClient, with requests made outside ``with`` served in this thread."""

    @contextlib.contextmanager
    def _portal_factory(self) -> Iterator[Any]:
        if self.portal is None and not _loop_running():
            with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
                yield _CallingThreadPortal(runner)
            return
        with super()._portal_factory() as portal:
            yield portal


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
