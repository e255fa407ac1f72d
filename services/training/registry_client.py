"""Talk to the model registry: find the Production version and register new versions."""

from __future__ import annotations

from typing import Any, Protocol

from shared.errors import UpstreamError

VERSIONS_PATH = "/api/v1/registered-models/{name}/versions"


class ModelRegistry(Protocol):
    """What a training job needs from the registry."""

    def production_version(self, name: str) -> int | None:
        """Return the version number currently in Production, or None."""

    def register_version(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Create the next version of ``name`` and return the registry's answer."""


class HttpModelRegistry:
    """ModelRegistry over the registry's REST API through a ``ServiceClient``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def production_version(self, name: str) -> int | None:
        """Return the Production version of ``name``; a model never registered has none."""
        response = self.client.get(VERSIONS_PATH.format(name=name), params={"stage": "Production"})
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise UpstreamError(
                f"registry answered {response.status_code} listing versions of {name!r}"
            )
        versions = _items(response.json())
        numbers = [int(v["version"]) for v in versions if v.get("stage") == "Production"]
        return max(numbers) if numbers else None

    def register_version(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a new version of ``name`` and return its body (with ``version``)."""
        return self.client.post_json(VERSIONS_PATH.format(name=name), json=payload)


def _items(body: Any) -> list[dict[str, Any]]:
    """Accept a bare list or a page object (``items`` or ``results``)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("items", "results"):
            if isinstance(body.get(key), list):
                return body[key]
    raise UpstreamError("registry returned an unexpected version listing")
