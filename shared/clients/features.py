"""Typed client of the feature store's API: training sets, online values, drift, materialise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.errors import UpstreamError

TRAINING_SETS_PATH = "/api/v1/training-sets"
ONLINE_PATH = "/api/v1/online/{name}"
VIEW_PATH = "/api/v1/feature-views/{name}"
DRIFT_PATH = VIEW_PATH + "/drift"


class FeatureSource(Protocol):
    """What training needs from the feature store: point-in-time correct training sets."""

    def training_set(
        self,
        features: Sequence[str],
        entity_rows: Sequence[dict[str, Any]],
        versions: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Return each entity row joined with the features' values as of its event time."""


class OnlineFeatures(Protocol):
    """What serving needs from the feature store: the fresh values of some entities."""

    def online(self, view: str, entity_keys: Sequence[str]) -> dict[str, Any]:
        """Return the online entries of ``entity_keys`` in one view."""


class FeatureDrift(Protocol):
    """What monitoring needs from the feature store: drift between two windows of a view."""

    def drift(
        self, view: str, reference: dict[str, str], current: dict[str, str]
    ) -> dict[str, Any]:
        """Return per-feature PSI/KS and one alert per drifted correlated group."""


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

    def training_set(
        self,
        features: Sequence[str],
        entity_rows: Sequence[dict[str, Any]],
        versions: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """POST a training-set request; ``versions`` pins a view's schema version."""
        body: dict[str, Any] = {"features": list(features), "entity_rows": list(entity_rows)}
        if versions:
            body["versions"] = versions
        return _record(self.client.post_json(TRAINING_SETS_PATH, json=body))

    def online(self, view: str, entity_keys: Sequence[str]) -> dict[str, Any]:
        """Return the online entries of some entities of a view (null values: none fresh)."""
        path = ONLINE_PATH.format(name=view)
        params = [("entity_key", key) for key in entity_keys]
        return _record(self.client.get_json(path, params=params))

    def drift(
        self, view: str, reference: dict[str, str], current: dict[str, str]
    ) -> dict[str, Any]:
        """Return the drift report of ``view`` between two ``{start, end}`` windows."""
        body = {"reference": reference, "current": current}
        return _record(self.client.post_json(DRIFT_PATH.format(name=view), json=body))

    def materialize(self, view: str, as_of: str | None = None) -> dict[str, Any]:
        """Copy a feature view's latest fresh values online; return the store's answer."""
        body = {} if as_of is None else {"as_of": as_of}
        return _record(
            self.client.post_json(VIEW_PATH.format(name=view) + "/materialize", json=body)
        )

    def view(self, name: str) -> dict[str, Any]:
        """Return a feature view with its latest schema."""
        return _record(self.client.get_json(VIEW_PATH.format(name=name)))


def _record(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UpstreamError("feature store returned an unexpected body")
    return body
