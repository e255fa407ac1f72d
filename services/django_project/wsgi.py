"""Build a WSGI app that serves one Django service's URLconf."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any

SETTINGS_MODULE = "services.django_project.settings"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def configure_django() -> None:
    """Point Django at the shared settings and set it up once."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup(set_prefix=False)


@functools.cache
def get_wsgi_application_for(service: str) -> WSGIApp:
    """Return a WSGI app that answers with the given service's URLconf only."""
    configure_django()
    from django.core.handlers.wsgi import WSGIHandler

    from services.django_project.middleware import SERVICE_KEY, urlconf_for

    urlconf_for(service)
    handler = WSGIHandler()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ[SERVICE_KEY] = service
        return handler(environ, start_response)

    return application


def prepare_local_storage() -> None:
    """Create the folder of the local SQLite databases so a first start can open them."""
    from django.conf import settings

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
