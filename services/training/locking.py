"""Where training jobs run, and the lock backend that requires (stated at start-up).

Jobs of one model are serialised by a lock named after the model. With
``task_always_eager`` the API process runs every job itself, so an in-process lock is
enough as long as one API process serves training. A Celery worker runs jobs in a pool of
processes, and any number of workers may consume the same queue, so a worker refuses a
lock backend whose state stays inside one process.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from services.training.config import Settings
from shared.backend_scope import Guard, announce, scope_of
from shared.utils.distributed import LockFactory

logger = logging.getLogger("synapse.backends")

WHAT = "the per-model training lock"
IN_API = "jobs run inside this API process (task_always_eager); serve training from one process"
IN_WORKERS = "jobs run in Celery worker processes (a pool per worker, any number of workers)"


def worker_lock_guard(lock_factory: LockFactory | None = None) -> Guard:
    """Return the guard of the model lock in a Celery worker: always several processes."""
    scope = scope_of("locks", lock_factory)
    return Guard("training worker", WHAT, scope, many_processes=True, where=IN_WORKERS)


def api_lock_guard(lock_factory: LockFactory) -> Guard:
    """Return the guard of the model lock in an API process that runs its jobs inline."""
    scope = scope_of("locks", lock_factory)
    return Guard("training", WHAT, scope, many_processes=False, where=IN_API)


def announce_api_locks(settings: Settings, lock_factory: LockFactory) -> str:
    """State at API start-up which process takes the model lock and on which backend."""
    if settings.task_always_eager:
        return announce(api_lock_guard(lock_factory))
    # This process only queues jobs; the workers' own environment decides their backend.
    guard = worker_lock_guard(lock_factory)
    text = f"training: {IN_WORKERS}; this process takes no model lock"
    if guard.scope.process_local:
        text += (
            f"; {guard.scope.label} is configured here, so a worker started with this "
            f"environment refuses to start; {guard.advice()}"
        )
        logger.warning(text)
    else:
        logger.info(text)
    return text


def restate_when_ready(app: Celery, statement: str) -> Celery:
    """Log ``statement`` again when ``app``'s worker is ready, where its log shows it."""

    # The first statement is made on import, before Celery sets up the worker's logging.
    def restate(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is app:
            logger.info(statement)

    worker_ready.connect(restate, weak=False)
    return app
