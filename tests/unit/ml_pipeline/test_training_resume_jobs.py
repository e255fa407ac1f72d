"""A retried training job resumes from its newest checkpoint instead of starting over."""

from pathlib import Path
from urllib.parse import urlparse

import pytest

from shared.ml.checkpoint import CheckpointManager
from shared.ml.model_loader import file_sha256
from shared.ml.trainer import train
from tests.utils.ml import fake_fsync  # noqa: F401
from tests.utils.training import fetch, hyperparams, make_training_env, run_job, submit

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("fake_fsync")]

PARAMS = {"epochs": 4, "momentum": 0.9, "schedule": "warmup_cosine", "warmup_steps": 2}


class CrashOnce:
    """The real trainer; its first run dies while training epoch ``crash_epoch``."""

    def __init__(self, crash_epoch):
        self.crash_epoch = crash_epoch
        self.calls = []

    def __call__(self, config, dataset, *, seed, on_epoch=None, **options):
        self.calls.append(options)
        crash = len(self.calls) == 1

        def hook(record):
            if crash and record["epoch"] == self.crash_epoch:
                raise RuntimeError("worker killed")
            on_epoch(record)

        return train(config, dataset, seed=seed, on_epoch=hook, **options)


@pytest.fixture
def crashed(tmp_path):
    trainer = CrashOnce(crash_epoch=1)
    env = make_training_env(tmp_path / "a", trainer=trainer)
    job_id = submit(env, hyperparams=hyperparams(**PARAMS))["id"]
    assert fetch(env, job_id)["status"] == "failed"
    return env, job_id, trainer


@pytest.fixture
def straight(tmp_path):
    env = make_training_env(tmp_path / "b")
    return run_job(env, hyperparams=hyperparams(**PARAMS))


def test_job_writes_checkpoints_under_its_directory(crashed):
    env, job_id, _ = crashed
    manager = CheckpointManager(env.artifact_root / "churn" / job_id / "checkpoints")
    assert len(manager.list()) == 1
    assert manager.load_latest().extra["next_epoch"] == 1


def test_retried_job_resumes_from_the_last_checkpoint(crashed):
    env, job_id, trainer = crashed
    assert env.run(job_id) == "succeeded"
    job = fetch(env, job_id)
    assert job["attempts"] == 2
    assert job["metrics"]["resumed_from_epoch"] == 0
    assert [c["resume"] for c in trainer.calls] == [False, True]


def test_retried_job_ends_like_an_uninterrupted_job(crashed, straight):
    env, job_id, _ = crashed
    env.run(job_id)
    job = fetch(env, job_id)
    assert job["artifact_uri"] != straight["artifact_uri"]
    assert job["history"] == straight["history"]
    assert [e["epoch"] for e in job["history"]] == [0, 1, 2, 3]
    registered = env.registry.versions["churn"][0]
    assert registered["params"]["artifact_sha256"] == straight_sha(straight)
    assert "resumed_from_epoch" not in registered["metrics"]


def straight_sha(job):
    return file_sha256(Path(urlparse(job["artifact_uri"]).path))


def test_first_attempt_does_not_report_a_resume(straight):
    assert "resumed_from_epoch" not in straight["metrics"]
