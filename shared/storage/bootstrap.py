"""Create the platform's buckets; any failure stops the bootstrap with the bucket's name."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from shared.errors import SynapseError
from shared.storage.base import ObjectStore, StorageError

logger = logging.getLogger(__name__)

# Buckets every deployment needs: model artifacts, training data, training checkpoints.
ARTIFACTS_BUCKET = "synapse-artifacts"
DATASETS_BUCKET = "synapse-datasets"
CHECKPOINTS_BUCKET = "synapse-checkpoints"
PLATFORM_BUCKETS: tuple[str, ...] = (ARTIFACTS_BUCKET, DATASETS_BUCKET, CHECKPOINTS_BUCKET)


class BucketBootstrapError(SynapseError):
    """Raised when a platform bucket cannot be created or checked."""

    status_code = 503
    code = "bucket_bootstrap_failed"


def ensure_buckets(store: ObjectStore, buckets: Iterable[str] = PLATFORM_BUCKETS) -> list[str]:
    """Create each missing bucket and return the ones created; raise on the first failure."""
    created = []
    for bucket in buckets:
        try:
            if store.ensure_bucket(bucket):
                created.append(bucket)
            if not store.bucket_exists(bucket):
                raise StorageError(f"bucket {bucket!r} is missing after creation")
        except SynapseError as exc:
            raise BucketBootstrapError(
                f"could not create bucket {bucket!r}: {exc.message}",
                details={"bucket": bucket, "error": exc.code},
            ) from exc
        logger.info("bucket %s ready", bucket)
    return created
