"""Typed client of the model registry's REST API: the one way services reach the registry."""

from __future__ import annotations

from typing import Any, Protocol, cast
from urllib.parse import quote

import httpx

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.errors import SynapseError, UpstreamError

VERSIONS_PATH = "/api/v1/registered-models/{name}/versions"
VERSION_PATH = VERSIONS_PATH + "/{version}"
RUN_VERSIONS_PATH = "/api/v1/model-versions"


class ModelRegistry(Protocol):
    """What a service that registers versions needs from the registry."""

    def production_version(self, name: str) -> int | None:
        """Return the version number currently in Production, or None."""

    def register_version(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Create the next version of ``name`` and return the registry's answer."""


class RegistryClient:
    """The registry's REST API over a ``ServiceClient`` (retries, breaker, mapped errors)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> RegistryClient:
        """Return a client of the registry at ``url`` with the default retry policy."""
        return cls(ServiceClient("registry", discovery=StaticDiscovery({"registry": url})))

    def close(self) -> None:
        """Close the underlying connections."""
        self.client.close()

    def is_healthy(self) -> bool:
        """Probe the registry's /health endpoint and report whether the registry is up."""
        try:
            return self.client.get("/health").status_code == 200
        except (httpx.HTTPError, SynapseError):
            return False

    def get_version(self, name: str, version: int) -> dict[str, Any]:
        """Return one version's record; an unknown model or version raises NotFoundError."""
        record = self.client.get_json(VERSION_PATH.format(name=segment(name), version=version))
        if not isinstance(record, dict):
            raise UpstreamError(f"registry returned an unexpected record for {name!r} v{version}")
        return record

    def versions_of_run(self, run_id: str) -> list[dict[str, Any]]:
        """Return the records of every version registered from an experiment run."""
        body = self.client.get_json(RUN_VERSIONS_PATH, params={"run_id": run_id, "limit": 1000})
        return _items(body)

    def production_version(self, name: str) -> int | None:
        """Return the Production version of ``name``; a model never registered has none."""
        response = self.client.get(
            VERSIONS_PATH.format(name=segment(name)), params={"stage": "Production"}
        )
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
        body = self.client.post_json(VERSIONS_PATH.format(name=segment(name)), json=payload)
        if not isinstance(body, dict):
            raise UpstreamError(f"registry returned an unexpected body registering {name!r}")
        return body


def segment(value: str) -> str:
    """Return ``value`` encoded as one URL path segment ('/', '?', '#' and '%' included)."""
    return quote(value, safe="")


def _items(body: Any) -> list[dict[str, Any]]:
    """Accept a bare list or a page object (``items`` or ``results``)."""
    if isinstance(body, list):
        return cast(list[dict[str, Any]], body)
    if isinstance(body, dict):
        for key in ("items", "results"):
            if isinstance(body.get(key), list):
                return cast(list[dict[str, Any]], body[key])
    raise UpstreamError("registry returned an unexpected version listing")
