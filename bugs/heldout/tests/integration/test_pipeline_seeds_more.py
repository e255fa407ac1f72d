"""Held-out: runs of one pipeline version on one dataset version submit identical training jobs."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import FakeModels, make_pipeline_env, rec, step

pytestmark = pytest.mark.pipeline

STEPS = [
    step("gate", "validate"),
    step(
        "learn",
        "train",
        "gate",
        model_name="fraud",
        dataset={"kind": "blobs", "n_samples": 96, "n_features": 5},
        hyperparams={"architecture": "mlp", "epochs": 4},
    ),
]


def test_three_reruns_of_a_dataset_version_submit_one_training_payload() -> None:
    models = FakeModels()
    env = make_pipeline_env(models=models)
    env.datasets.add("payments", "c0ffee42", [rec(1)])
    env.define("fraud-nightly", STEPS)
    runs = [env.run("fraud-nightly", dataset="payments", data_version="c0ffee42") for _ in range(3)]
    assert all(r["status"] == "succeeded" for r in runs)
    assert len({r["seed"] for r in runs}) == 1
    assert models.payloads[0] == models.payloads[1] == models.payloads[2]


def test_explicit_seed_and_derived_seed_runs_differ_only_where_asked() -> None:
    models = FakeModels()
    env = make_pipeline_env(models=models)
    env.datasets.add("payments", "beef01", [rec(1)])
    env.define("fraud-nightly", STEPS)
    pinned = env.run("fraud-nightly", dataset="payments", data_version="beef01", seed=11)
    derived = [
        env.run("fraud-nightly", dataset="payments", data_version="beef01") for _ in range(2)
    ]
    assert pinned["seed"] == 11 and models.payloads[0]["hyperparams"]["seed"] == 11
    assert derived[0]["seed"] == derived[1]["seed"]
    assert models.payloads[1] == models.payloads[2]
