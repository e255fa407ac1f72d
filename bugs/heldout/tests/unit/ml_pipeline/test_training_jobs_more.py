"""Held-out: seeded reproducibility of training jobs with other seeds and sizes."""

import pytest

from tests.utils.training import dataset_spec, hyperparams, make_training_env
from tests.utils.training import run_job as run_to_end

pytestmark = pytest.mark.training


def test_a_larger_job_with_another_seed_reproduces_its_metrics(tmp_path):
    env = make_training_env(tmp_path)
    spec = {"dataset": dataset_spec(n_samples=160, seed=11), "hyperparams": hyperparams(seed=42)}
    first, second = run_to_end(env, "ltv", **spec), run_to_end(env, "ltv", **spec)
    assert first["metrics"] == second["metrics"]
