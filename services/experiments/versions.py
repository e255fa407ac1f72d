"""The model versions registered from a run, as the registry records them."""

from __future__ import annotations

from typing import Any

from services.django_project.upstreams import service_client
from services.experiments import services
from shared.clients.registry import RegistryClient
from shared.errors import ServiceUnavailableError


def versions_of_run(run_id: str) -> list[dict[str, Any]]:
    """Return ``{name, version, stage}`` of each version registered from an existing run."""
    run = services.get_run(run_id)
    client = service_client("experiments", "registry")
    if client is None:
        raise ServiceUnavailableError("the registry's address is not configured")
    records = RegistryClient(client).versions_of_run(str(run.run_id))
    return [
        {"name": record["name"], "version": record["version"], "stage": record["stage"]}
        for record in records
    ]
