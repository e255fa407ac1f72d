"""Pipeline service: DAGs of data and training steps, run as Celery tasks."""
