"""Training service: queues jobs, trains models with Celery and registers versions."""
