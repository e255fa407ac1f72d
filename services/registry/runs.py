"""Experiment runs a version is linked to: the registry asks the experiments service first."""

from __future__ import annotations

from services.django_project.upstreams import service_client
from shared.clients.experiments import ExperimentsClient
from shared.errors import NotFoundError, ValidationError


def check_run(run_id: str) -> None:
    """Raise ValidationError when ``run_id`` names a run the experiments service does not know.

    An empty run id links nothing; without an experiments address the id is kept unchecked.
    Other failures of the experiments service propagate (502/503/504): nothing is registered.
    """
    client = service_client("registry", "experiments")
    if not run_id or client is None:
        return
    try:
        ExperimentsClient(client).get_run(run_id)
    except NotFoundError:
        message = f"experiment run {run_id!r} does not exist"
        error = {"loc": ["run_id"], "msg": message, "type": "not_found"}
        raise ValidationError(message, details=[error]) from None
