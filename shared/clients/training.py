"""Typed client of the training service's REST API: how the pipeline submits and reads jobs."""

from __future__ import annotations

from typing import Any

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.errors import UpstreamError

JOBS_PATH = "/api/v1/jobs"
JOB_PATH = JOBS_PATH + "/{job_id}"


class TrainingClient:
    """The training API over a ``ServiceClient`` (retries, breaker, mapped errors)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> TrainingClient:
        """Return a client of the training service at ``url``."""
        return cls(ServiceClient("training", discovery=StaticDiscovery({"training": url})))

    def close(self) -> None:
        """Close the underlying connections."""
        self.client.close()

    def submit_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a job (``POST /api/v1/jobs``) and return ``{id, status}``."""
        return _record(self.client.post_json(JOBS_PATH, json=payload))

    def get_job(self, job_id: str) -> dict[str, Any]:
        """Return one job; an unknown job raises NotFoundError."""
        return _record(self.client.get_json(JOB_PATH.format(job_id=job_id)))


def _record(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or "id" not in body:
        raise UpstreamError("training returned an unexpected job record")
    return body
