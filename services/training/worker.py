"""Celery worker entry point: ``celery -A services.training.worker worker``.

Importing this module builds the Celery app object only; connections open when the worker
starts and dependencies are built on the first task.
"""

from services.training.main import create_worker_app

app = create_worker_app()
