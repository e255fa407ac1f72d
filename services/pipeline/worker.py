"""Celery worker entry point: ``celery -A services.pipeline.worker worker``.

Importing this module builds the Celery app and its run engine; connections open when the
worker starts and the first task runs.
"""

from services.pipeline.main import create_worker_app

app = create_worker_app()
