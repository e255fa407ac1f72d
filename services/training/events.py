"""What training announces: a job's final outcome, published by the Celery task that ran it.

Publishes ``training.job.completed`` (with the registered version and metrics) or
``training.job.failed`` (with the stored error) on topic training.jobs; it consumes nothing.
Delivery is at least once: a redelivered task that finds its job already finished announces
the same outcome again, so consumers key on ``job_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.training import store
from shared.events.base import EventBus
from shared.events.schema import EventEnvelope, EventType, make_event, publish_event

SOURCE = "training"
logger = logging.getLogger(__name__)

JobRunner = Callable[[str], str]
JobReader = Callable[[str], store.JobRecord]


def job_finished_event(job: store.JobRecord) -> EventEnvelope | None:
    """Return the event announcing a finished job, or None while it is still in flight."""
    if job.status == store.SUCCEEDED and job.model_version is not None:
        data = {
            "job_id": job.id,
            "model_name": job.model_name,
            "model_version": job.model_version,
            "metrics": dict(job.metrics or {}),
        }
        return make_event(EventType.TRAINING_JOB_COMPLETED, data, source=SOURCE)
    if job.status == store.FAILED:
        data = {"job_id": job.id, "model_name": job.model_name, "error": job.error or ""}
        return make_event(EventType.TRAINING_JOB_FAILED, data, source=SOURCE)
    return None


def announcing(run: JobRunner, read: JobReader, bus: Callable[[], EventBus]) -> JobRunner:
    """Wrap a job runner so that, once the job reaches a final status, its outcome is published."""

    def runner(job_id: str) -> str:
        status = run(job_id)
        event = job_finished_event(read(job_id))
        if event is not None:
            publish_event(bus(), event)
            logger.info("published %s for job %s", event.type.value, job_id)
        return status

    return runner
