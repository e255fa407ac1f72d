"""Held-out: job re-runs and seeded reproducibility with other models, seeds and sizes."""

import pytest

from tests.utils.training import dataset_spec, fetch, hyperparams, make_training_env
from tests.utils.training import run_job as run_to_end

pytestmark = pytest.mark.training


def test_each_succeeded_job_stays_untouched_by_repeated_runs(tmp_path):
    env = make_training_env(tmp_path)
    jobs = [run_to_end(env, name) for name in ("fraud", "upsell")]
    for job in jobs:
        for _ in range(2):
            assert env.run(job["id"]) == "succeeded"
        assert fetch(env, job["id"]) == job
    assert [len(env.registry.versions[n]) for n in ("fraud", "upsell")] == [1, 1]


def test_a_larger_job_with_another_seed_reproduces_its_metrics(tmp_path):
    env = make_training_env(tmp_path)
    spec = {"dataset": dataset_spec(n_samples=160, seed=11), "hyperparams": hyperparams(seed=42)}
    first, second = run_to_end(env, "ltv", **spec), run_to_end(env, "ltv", **spec)
    assert first["metrics"] == second["metrics"]
