"""The live lane's pipeline worker: ``celery -A infra.tests.live.pipeline_worker worker``.

The pipeline service's own Celery app, run engine and step executors, built from the
SYNAPSE_PIPELINE_* variables the lane sets (PostgreSQL models_db, a Redis broker, Kafka for
its events). Only the dataset reader differs from a deployment's: a dataset version is the
JSON-lines objects under ``<dataset>/<version>/`` in the stack's datasets bucket on S3, read
through the storage port, so the lane needs no storage service process. The worker consumes
the queue named by SYNAPSE_LIVE_PIPELINE_QUEUE, private to one run of the lane.
"""

from __future__ import annotations

import os
from typing import Any

from infra.tests.live.support import PIPELINE_QUEUE_VARIABLE
from services.pipeline.config import Settings
from services.pipeline.executors import StorageDatasetReader, default_executors
from services.pipeline.main import create_app
from shared import backends
from shared.clients.features import FeaturesClient
from shared.clients.registry import RegistryClient
from shared.clients.training import TrainingClient
from shared.storage.bootstrap import DATASETS_BUCKET


class BucketDatasets:
    """The two calls the storage reader makes, answered from the datasets bucket."""

    def dataset_version(self, dataset: str, version: str) -> dict[str, Any]:
        """Return the version's manifest: its objects in name order."""
        infos = backends.get_storage().list(DATASETS_BUCKET, f"{dataset}/{version}/")
        return {
            "namespace": DATASETS_BUCKET,
            "objects": [{"key": info.name} for info in sorted(infos, key=lambda i: i.name)],
        }

    def get(self, namespace: str, key: str) -> bytes:
        """Return one object's bytes."""
        return backends.get_storage().get(namespace, key)


def build() -> Any:
    """Return the worker's Celery app."""
    settings = Settings()
    executors = default_executors(
        reader=StorageDatasetReader(BucketDatasets()),
        features=FeaturesClient.from_url(settings.features_url),
        training=TrainingClient.from_url(settings.training_url),
        registry=RegistryClient.from_url(settings.registry_url),
    )
    celery = create_app(settings, executors=executors).state.celery
    celery.conf.task_default_queue = os.environ[PIPELINE_QUEUE_VARIABLE]
    return celery


app = build()
