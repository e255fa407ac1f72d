"""What the experiments service announces on the bus: runs that ended.

Publishes ``experiment.run.finished`` (topic experiments.runs, keyed by experiment) when a run
ends, as finished or failed; it consumes nothing. The event goes out only once the database
transaction has committed, so an end that rolls back is never announced; a failing broker is
logged and does not undo the committed change (``robust`` on-commit callbacks).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from services.django_project.routers import database_for
from services.experiments.models import Run
from shared.backends import ports
from shared.events.schema import EventType, make_event, publish_event
from shared.tracing import current_correlation_id
from shared.utils.timeutils import isoformat

SOURCE = "experiments"
DB = database_for("experiments")
logger = logging.getLogger(__name__)


def run_finished(run: Run) -> None:
    """Announce a run's end once the change commits."""
    data: dict[str, Any] = {
        "experiment": run.experiment.name,
        "run_id": run.run_id,
        "status": run.status,
        "seed": run.seed,
        "started_at": isoformat(run.started_at),
        "finished_at": isoformat(run.finished_at) if run.finished_at else None,
    }
    transaction.on_commit(lambda: _publish(data), using=DB, robust=True)


def _publish(data: dict[str, Any]) -> None:
    event = make_event(
        EventType.EXPERIMENT_RUN_FINISHED,
        data,
        source=SOURCE,
        correlation_id=current_correlation_id(),
    )
    publish_event(ports().bus, event)
    logger.info("published %s for run %s", EventType.EXPERIMENT_RUN_FINISHED.value, data["run_id"])
