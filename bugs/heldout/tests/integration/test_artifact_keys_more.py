"""Held-out: per-job object keys across three jobs, fetched oldest first."""

from __future__ import annotations

import pytest

from services.inference.fetch import fetch_missing
from services.training.outputs import upload_job_outputs
from shared.storage.bootstrap import ensure_buckets
from shared.storage.memory import InMemoryObjectStore

pytestmark = pytest.mark.inference


def test_replica_fetching_the_oldest_of_three_jobs_gets_that_jobs_own_weights(tmp_path):
    store = InMemoryObjectStore()
    ensure_buckets(store)
    trainer, replica = tmp_path / "trainer", tmp_path / "replica"
    for job in ("run-a", "run-b", "run-c"):
        directory = trainer / "ltv" / job
        (directory / "checkpoints").mkdir(parents=True)
        (directory / "model.npz").write_bytes(f"weights of {job}".encode())
        upload_job_outputs(store, trainer, directory / "model.npz", directory / "checkpoints")
    wanted = replica / "ltv" / "run-a" / "model.npz"
    assert fetch_missing(store, wanted, replica) is True
    assert wanted.read_bytes() == b"weights of run-a"
