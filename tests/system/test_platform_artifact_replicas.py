"""Replicas that lack an artifact on disk serve it from object storage, version by version.

Each training job copies its artifact and checkpoints to object storage; an inference replica
that is asked for a version whose file it does not hold downloads that version's object. The
flows run through the gateway; the checks read the bucket listing and what the replica serves.
"""

from __future__ import annotations

import pytest

from shared.backends import get_storage
from shared.storage.bootstrap import ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB, pytest.mark.inference]


def lose_local_copies(platform, name, *versions):
    """Delete the versions' files from disk, as on a replica that never trained them."""
    originals = {}
    for version in versions:
        path = platform.artifact_path(name, version)
        originals[version] = path.read_bytes()
        path.unlink()
    return originals


def test_replica_rolling_back_downloads_the_older_versions_own_artifact(platform):
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    originals = lose_local_copies(platform, "churn", v1.version, v2.version)
    for trained in (v2, v1):
        response = platform.deploy("churn", trained.version)
        assert response.status_code == 200, response.text
        assert (
            platform.artifact_path("churn", trained.version).read_bytes()
            == (originals[trained.version])
        )
        assert platform.predict("churn", rows()).json()["version"] == trained.version


def test_every_job_of_a_model_keeps_its_own_objects(platform):
    jobs = [platform.train("churn", seed=seed).job["id"] for seed in (7, 8)]
    storage = get_storage()
    artifacts = {info.name for info in storage.list(ARTIFACTS_BUCKET, "churn/")}
    assert artifacts == {f"churn/{job}/model.npz" for job in jobs}
    per_job = [{i.name for i in storage.list(CHECKPOINTS_BUCKET, f"churn/{job}/")} for job in jobs]
    assert all(per_job) and not per_job[0] & per_job[1]
