"""Typed client of the feature store's REST API: what the pipeline asks of it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.errors import UpstreamError

VIEW_PATH = "/api/v1/feature-views/{name}"


class FeaturesClient:
    """The feature store's API over a ``ServiceClient`` (retries, breaker, mapped errors)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> FeaturesClient:
        """Return a client of the feature store at ``url``."""
        return cls(ServiceClient("features", discovery=StaticDiscovery({"features": url})))

    def close(self) -> None:
        """Close the underlying connections."""
        self.client.close()

    def materialize(self, view: str, as_of: str | None = None) -> dict[str, Any]:
        """Copy a feature view's latest fresh values online; return the store's answer."""
        body = {} if as_of is None else {"as_of": as_of}
        path = VIEW_PATH.format(name=quote(view, safe="")) + "/materialize"
        answer = self.client.post_json(path, json=body)
        if not isinstance(answer, dict):
            raise UpstreamError(f"features returned an unexpected answer materialising {view!r}")
        return answer
