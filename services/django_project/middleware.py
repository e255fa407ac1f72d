"""Django middleware: each request's service URLconf, and its correlation ID bound and echoed."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from shared.tracing import (
    CORRELATION_HEADER,
    bind_correlation_id,
    new_correlation_id,
    unbind_correlation_id,
    well_formed,
)

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


class CorrelationIDMiddleware:
    """Bind the caller's X-Correlation-ID (or a new one) and echo it on the response.

    What the request causes carries it: calls to other services through the platform clients
    and the events published when its transaction commits.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Handle the request with its correlation ID bound."""
        sent = request.headers.get(CORRELATION_HEADER)
        correlation_id = sent if sent is not None and well_formed(sent) else new_correlation_id()
        token = bind_correlation_id(correlation_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_correlation_id(token)
        if CORRELATION_HEADER not in response:
            response[CORRELATION_HEADER] = correlation_id
        return response
