"""How the Django services reach the services they call: addresses from the environment.

``SYNAPSE_<SERVICE>_<UPSTREAM>_URL`` is the base URL ``<service>`` calls ``<upstream>`` at
(``SYNAPSE_REGISTRY_EXPERIMENTS_URL``: where the registry finds the experiments service). The
settings module reads them once into ``SYNAPSE_UPSTREAM_URLS``; a service whose upstream has no
address does without it (the registry then links versions to runs unchecked, experiments
answers 503 for the versions of a run). In-process slices and tests route every upstream call
through one transport with ``use_transport``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx
from django.conf import settings

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.services import env_prefix

# Which services each Django service calls.
UPSTREAMS: dict[str, tuple[str, ...]] = {
    "registry": ("experiments",),
    "experiments": ("registry",),
}

_lock = threading.Lock()
_clients: dict[tuple[str, str, str], ServiceClient] = {}
_routing: dict[str, object] = {"transport": None, "sleep": time.sleep}


def upstream_variable(service: str, upstream: str) -> str:
    """Return the environment variable that holds where ``service`` reaches ``upstream``."""
    return f"{env_prefix(service)}{upstream.upper()}_URL"


def upstream_urls(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Return ``{service: {upstream: base URL}}`` for every upstream address that is set."""
    urls: dict[str, dict[str, str]] = {}
    for service, upstreams in UPSTREAMS.items():
        for upstream in upstreams:
            value = environ.get(upstream_variable(service, upstream), "").strip()
            if value:
                urls.setdefault(service, {})[upstream] = value
    return urls


def upstream_url(service: str, upstream: str) -> str | None:
    """Return the configured base URL ``service`` calls ``upstream`` at, or None."""
    table: dict[str, dict[str, str]] = getattr(settings, "SYNAPSE_UPSTREAM_URLS", {})
    return table.get(service, {}).get(upstream)


def service_client(service: str, upstream: str) -> ServiceClient | None:
    """Return the client ``service`` calls ``upstream`` with, or None when it has no address."""
    url = upstream_url(service, upstream)
    if url is None:
        return None
    key = (service, upstream, url)
    with _lock:
        client = _clients.get(key)
        if client is None:
            sleep: Callable[[float], None] = _routing["sleep"]  # type: ignore[assignment]
            client = ServiceClient(
                upstream,
                discovery=StaticDiscovery({upstream: url}),
                transport=_routing["transport"],  # type: ignore[arg-type]
                sleep=sleep,
            )
            _clients[key] = client
        return client


@contextmanager
def use_transport(
    transport: httpx.BaseTransport, *, sleep: Callable[[float], None] = time.sleep
) -> Iterator[None]:
    """Send every upstream call through ``transport`` (in-process apps) while the block runs."""
    with _lock:
        previous = dict(_routing)
        _routing.update(transport=transport, sleep=sleep)
        _clients.clear()
    try:
        yield
    finally:
        with _lock:
            _routing.update(previous)
            _clients.clear()
