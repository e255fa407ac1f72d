"""Work a job does, counted: optimiser steps, trainer runs, registry calls."""

import pytest

from shared.ml.trainer import train
from tests.utils.training import (
    dataset_spec,
    expected_optimizer_steps,
    hyperparams,
    make_training_env,
    run_job,
    train_split_size,
)

pytestmark = pytest.mark.training


class CountingTrainer:
    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return train(*args, **kwargs)


@pytest.fixture
def trainer():
    return CountingTrainer()


@pytest.fixture
def env(tmp_path, trainer):
    return make_training_env(tmp_path, trainer=trainer)


def steps_of(job):
    return [epoch["optimizer_steps"] for epoch in job["history"]]


def test_job_takes_one_step_per_batch_per_epoch(env):
    job = run_job(env, dataset=dataset_spec(n_samples=100), hyperparams=hyperparams(epochs=3))
    n_train = train_split_size(100)
    assert steps_of(job)[-1] == expected_optimizer_steps(n_train, 16, 3) == 15


def test_partial_last_batch_still_counts_as_a_step(env):
    job = run_job(env, dataset=dataset_spec(n_samples=68), hyperparams=hyperparams(epochs=2))
    assert steps_of(job) == [4, 8]


def test_gradient_accumulation_divides_the_optimizer_steps(env):
    params = hyperparams(epochs=2, batch_size=8, grad_accum_steps=3)
    job = run_job(env, dataset=dataset_spec(n_samples=96), hyperparams=params)
    assert steps_of(job)[-1] == expected_optimizer_steps(72, 8, 2, accum=3) == 6


def test_job_registers_exactly_once(env):
    run_job(env)
    registrations = [c for c in env.registry.calls if c[0] == "register_version"]
    assert registrations == [("register_version", "churn")]
    assert len(env.registry.calls) == 2


def test_job_trains_exactly_once(env, trainer):
    run_job(env)
    assert trainer.calls == 1


def test_rerun_of_a_succeeded_job_does_no_work(env, trainer):
    job = run_job(env)
    env.run(job["id"])
    assert trainer.calls == 1
    assert len(env.registry.calls) == 2
