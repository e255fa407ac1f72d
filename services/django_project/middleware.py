"""Serve each request with the URLconf of the service its WSGI/ASGI app was built for."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

# The key the service apps set in the WSGI environ (request.META) or the ASGI scope.
SERVICE_KEY = "synapse.service"


def urlconf_for(service: str) -> str:
    """Return the URLconf module of a Django service, or raise ImproperlyConfigured."""
    try:
        return settings.SYNAPSE_SERVICE_URLCONFS[service]
    except KeyError:
        raise ImproperlyConfigured(f"no Django service named {service!r}") from None


def service_of(request: HttpRequest) -> str | None:
    """Return the service a request was addressed to, if its app named one."""
    scope = getattr(request, "scope", None) or {}
    return request.META.get(SERVICE_KEY) or scope.get(SERVICE_KEY)


class ServiceURLConfMiddleware:
    """Set request.urlconf from the service named in the environ or scope."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Route the request to its service's URLconf, then handle it."""
        service = service_of(request)
        if service:
            request.urlconf = urlconf_for(service)
        return self.get_response(request)
