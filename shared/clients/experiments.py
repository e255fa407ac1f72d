"""Typed client of the experiments service's REST API: how services log runs and metrics."""

from __future__ import annotations

from typing import Any, Protocol

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.errors import UpstreamError

RUNS_PATH = "/api/v1/runs"
RUN_PATH = RUNS_PATH + "/{run_id}"


class ExperimentTracker(Protocol):
    """What a service that records its runs needs from the experiments service."""

    def start_run(self, experiment: str, **fields: Any) -> dict[str, Any]:
        """Start a run of ``experiment`` and return it (with ``run_id``)."""

    def log_metrics(self, run_id: str, points: list[dict[str, Any]]) -> int:
        """Append a batch of metric points; return how many were stored."""

    def end_run(self, run_id: str, status: str) -> dict[str, Any]:
        """End a run as "finished" or "failed" and return it."""


class ExperimentsClient:
    """The experiments API over a ``ServiceClient`` (retries, breaker, mapped errors)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> ExperimentsClient:
        """Return a client of the experiments service at ``url``."""
        return cls(ServiceClient("experiments", discovery=StaticDiscovery({"experiments": url})))

    def close(self) -> None:
        """Close the underlying connections."""
        self.client.close()

    def start_run(self, experiment: str, **fields: Any) -> dict[str, Any]:
        """Start a run of ``experiment`` (created on first use) and return it."""
        return _record(self.client.post_json(RUNS_PATH, json={"experiment": experiment, **fields}))

    def get_run(self, run_id: str) -> dict[str, Any]:
        """Return a run; an unknown run raises NotFoundError."""
        return _record(self.client.get_json(RUN_PATH.format(run_id=run_id)))

    def log_metrics(self, run_id: str, points: list[dict[str, Any]]) -> int:
        """Append a batch of points to a running run; return how many were stored."""
        path = RUN_PATH.format(run_id=run_id) + "/metrics"
        return int(_record(self.client.post_json(path, json={"points": points}))["logged"])

    def end_run(self, run_id: str, status: str) -> dict[str, Any]:
        """End a running run as "finished" or "failed"."""
        path = RUN_PATH.format(run_id=run_id) + "/end"
        return _record(self.client.post_json(path, json={"status": status}))


def _record(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UpstreamError("experiments service returned an unexpected body")
    return body
