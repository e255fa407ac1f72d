"""Celery tasks of the training service: explicit names, ids as arguments, idempotent."""

from __future__ import annotations

from celery import Celery, Task

RUN_JOB = "training.run_job"


def register_tasks(app: Celery) -> None:
    """Register the training tasks on ``app`` under their explicit names."""
    app.task(name=RUN_JOB, bind=True, ignore_result=True)(run_job_task)


def run_job_task(task: Task, job_id: str) -> str:
    """Run the training job ``job_id``; a job that already finished is left as it is."""
    runner = getattr(task.app, "training_runner", None)
    if runner is None:
        raise RuntimeError("the Celery app has no training runner; build it with create_app")
    return runner(job_id)


def dispatch_run_job(app: Celery, job_id: str) -> None:
    """Queue ``training.run_job`` for a committed job (runs inline when eager)."""
    app.tasks[RUN_JOB].apply_async(args=(job_id,))
