"""What training copies to object storage is what an inference replica downloads, per job.

Two hosts share one object store and nothing else: training uploads a finished job's files
from its artifact root, and a replica with an empty artifact root fetches a version's file
by the path its registered ``file://`` URI names.
"""

from __future__ import annotations

import pytest

from services.inference.fetch import fetch_missing
from services.training.outputs import upload_job_outputs
from shared.storage.bootstrap import ensure_buckets
from shared.storage.memory import InMemoryObjectStore


@pytest.fixture
def store():
    store = InMemoryObjectStore()
    ensure_buckets(store)
    return store


def finish_job(root, model, job, weights):
    """Write a finished job's artifact and two checkpoints under a training host's root."""
    directory = root / model / job
    (directory / "checkpoints").mkdir(parents=True)
    (directory / "model.npz").write_bytes(weights)
    for step in (1, 2):
        (directory / "checkpoints" / f"step-{step}.npz").write_bytes(weights + bytes([step]))
    return directory


def publish(store, root, directory):
    return upload_job_outputs(store, root, directory / "model.npz", directory / "checkpoints")


@pytest.mark.inference
def test_replica_downloads_the_artifact_of_each_job_it_is_asked_for(store, tmp_path):
    trainer_root, replica_root = tmp_path / "trainer", tmp_path / "replica"
    for job, weights in (("job-1", b"first weights"), ("job-2", b"second weights")):
        publish(store, trainer_root, finish_job(trainer_root, "churn", job, weights))
    for job, weights in (("job-1", b"first weights"), ("job-2", b"second weights")):
        wanted = replica_root / "churn" / job / "model.npz"
        assert fetch_missing(store, wanted, replica_root) is True
        assert wanted.read_bytes() == weights


@pytest.mark.training
def test_uploads_name_every_file_of_the_job_under_its_own_path(store, tmp_path):
    first = publish(store, tmp_path, finish_job(tmp_path, "churn", "job-1", b"a"))
    second = publish(store, tmp_path, finish_job(tmp_path, "churn", "job-2", b"b"))
    assert first == [
        "s3://synapse-artifacts/churn/job-1/model.npz",
        "s3://synapse-checkpoints/churn/job-1/checkpoints/step-1.npz",
        "s3://synapse-checkpoints/churn/job-1/checkpoints/step-2.npz",
    ]
    assert not set(first) & set(second)
    assert len(store.list("synapse-checkpoints", "churn/")) == 4


@pytest.mark.inference
def test_file_already_on_the_replica_is_not_downloaded_again(store, tmp_path):
    directory = finish_job(tmp_path, "churn", "job-1", b"weights")
    publish(store, tmp_path, directory)
    assert fetch_missing(store, directory / "model.npz", tmp_path) is False


@pytest.mark.inference
def test_path_outside_the_artifact_root_is_never_fetched(store, tmp_path):
    publish(store, tmp_path / "root", finish_job(tmp_path / "root", "churn", "job-1", b"w"))
    outside = tmp_path / "elsewhere" / "churn" / "job-1" / "model.npz"
    assert fetch_missing(store, outside, tmp_path / "root") is False
    assert not outside.exists()
