"""Django services that call each other, configured the way a deployment configures them.

    from tests.utils.links import LINKED_ENV, linked_services

    def test_registry_checks_runs(experiments_api):
        with linked_services() as http:
            response = http.post("http://registry/api/v1/registered-models/churn/versions", ...)

``linked_services`` reads the upstream addresses from environment variables
(``SYNAPSE_REGISTRY_EXPERIMENTS_URL``, ...) like the settings module does at start-up and sends
the services' calls to the in-process apps of one transport; the yielded httpx client reaches
the same apps. Pass ``transport`` to route through another slice's transport (the platform's).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from shared.clients.inprocess import InProcessTransport

LINKED_ENV = {
    "SYNAPSE_REGISTRY_EXPERIMENTS_URL": "http://experiments",
    "SYNAPSE_EXPERIMENTS_REGISTRY_URL": "http://registry",
}


def linked_transport(**apps: Any) -> InProcessTransport:
    """Return a transport serving the registry, experiments and any other given apps."""
    from tests.utils.experiments import experiments_wsgi_app
    from tests.utils.registry import registry_wsgi_app

    return InProcessTransport(
        {"registry": registry_wsgi_app(), "experiments": experiments_wsgi_app(), **apps}
    )


@contextmanager
def linked_services(
    environ: Mapping[str, str] = LINKED_ENV, transport: httpx.BaseTransport | None = None
) -> Iterator[httpx.Client]:
    """Configure the Django services' upstreams from ``environ`` and route them in-process."""
    from django.test import override_settings

    from services.django_project.upstreams import upstream_urls, use_transport

    transport = transport if transport is not None else linked_transport()
    with (
        override_settings(SYNAPSE_UPSTREAM_URLS=upstream_urls(environ)),
        use_transport(transport, sleep=lambda _: None),
        httpx.Client(transport=transport) as http,
    ):
        yield http
