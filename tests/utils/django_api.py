"""One Django service as a client sees it: JSON requests through the Django test client."""

from __future__ import annotations

import functools
import json
from typing import Any


@functools.cache
def warm_up(service: str) -> None:
    """Build the service's WSGI app and URLconf once per process (the first request is cheap)."""
    from django.urls import get_resolver

    from services.django_project.wsgi import get_wsgi_application_for

    get_wsgi_application_for(service)
    get_resolver(f"services.{service}.urls").url_patterns  # noqa: B018


class DjangoServiceAPI:
    """Requests to one Django service; ``ok`` asserts a status and returns the JSON body."""

    service = ""

    def __init__(self) -> None:
        from django.test import Client

        from services.django_project.middleware import SERVICE_KEY

        warm_up(self.service)
        self.client = Client(**{SERVICE_KEY: self.service})

    def get(self, path: str, **params: Any) -> Any:
        """GET a path with query parameters."""
        return self.client.get(path, params)

    def post(self, path: str, body: Any) -> Any:
        """POST a JSON body (a str is sent as it is)."""
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(path, data, content_type="application/json")

    def ok(self, response: Any, status: int = 200) -> Any:
        """Assert a response's status and return its JSON body."""
        assert response.status_code == status, (response.status_code, response.content[:500])
        return response.json()
