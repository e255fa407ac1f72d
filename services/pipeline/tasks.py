"""Celery tasks of the pipeline service: explicit names, ids as arguments, idempotent."""

from __future__ import annotations

from celery import Celery, Task, chain

RUN_STEP = "pipeline.run_step"


def register_tasks(app: Celery) -> None:
    """Register the pipeline tasks on ``app`` under their explicit names."""
    app.task(name=RUN_STEP, bind=True, ignore_result=True)(run_step_task)


def run_step_task(task: Task, run_id: str, step: str) -> str:
    """Execute one step of a run; a step already done or in flight is left as it is."""
    engine = getattr(task.app, "pipeline_engine", None)
    if engine is None:
        raise RuntimeError("the Celery app has no run engine; build it with create_app")
    return str(engine.run_step(run_id, step))


def dispatch_steps(app: Celery, run_id: str, order: list[str]) -> None:
    """Queue a run's steps as a chain of tasks in execution order (inline when eager)."""
    task = app.tasks[RUN_STEP]
    chain(task.si(run_id, step) for step in order).apply_async()
