"""Held-out: a training job overtaken on its lock later in the run, for another model."""

from __future__ import annotations

import pytest

from services.training.main import lock_name, run_job, submit_job
from services.training.schemas import JobCreate
from shared.ml.trainer import train
from shared.utils.distributed import InMemoryLockFactory
from tests.utils.training import (
    TickingClock,
    fetch,
    file_session_factory,
    hyperparams,
    job_payload,
    make_training_env,
)

pytestmark = pytest.mark.training


def test_job_overtaken_in_a_later_epoch_never_registers_and_the_taker_keeps_the_lock(tmp_path):
    clock = TickingClock()
    locks = InMemoryLockFactory(clock=clock)
    taker = locks(lock_name("fraud"), ttl=900)
    epochs = []

    def trainer(config, dataset, *, seed, on_epoch=None, **options):
        def each_epoch(record):
            epochs.append(record)
            if len(epochs) == 2:
                clock.advance(5_000)
                assert taker.acquire(timeout=0)
            on_epoch(record)

        return train(config, dataset, seed=seed, on_epoch=each_epoch, **options)

    env = make_training_env(
        tmp_path,
        lock_factory=locks,
        session_factory=file_session_factory(tmp_path / "jobs.db"),
        settings={"lock_timeout": 5.0},
        trainer=trainer,
    )
    request = JobCreate(**job_payload("fraud", hyperparams=hyperparams(epochs=4)))
    job_id = submit_job(request, env.deps, dispatch=lambda _: None).id
    assert run_job(job_id, env.deps) == "failed"
    assert "lost the lock" in fetch(env, job_id)["error"]
    assert len(epochs) == 2
    assert env.registry.calls == []
    assert taker.held()
