"""Hyperparameter and dataset validation of training jobs: bad values are a 422, not a job."""

import pytest

from services.training.main import build_train_config
from services.training.schemas import DatasetSpec, Hyperparams
from services.training.store import list_jobs
from shared.db import session_scope
from tests.utils.training import JOBS_URL, hyperparams, job_payload, make_training_env

pytestmark = pytest.mark.training


@pytest.fixture
def env(tmp_path):
    return make_training_env(tmp_path)


def post(env, **hp):
    return env.client.post(JOBS_URL, json=job_payload(hyperparams=hyperparams(**hp)))


@pytest.mark.parametrize("lr", [0, -0.1])
def test_non_positive_learning_rate_is_rejected(env, lr):
    response = post(env, lr=lr)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_batch_size_below_one_is_rejected(env):
    assert post(env, batch_size=0).status_code == 422


def test_epochs_above_the_maximum_are_rejected(env):
    assert post(env, epochs=101).status_code == 422


def test_grad_accumulation_below_one_is_rejected(env):
    assert post(env, grad_accum_steps=0).status_code == 422


def test_unknown_hyperparameter_is_rejected(env):
    response = post(env, learning_rate=0.1)
    assert response.status_code == 422
    assert any("learning_rate" in err["loc"] for err in response.json()["details"])


def test_architecture_that_cannot_learn_the_task_is_rejected(env):
    body = job_payload(
        dataset={"kind": "regression", "n_samples": 64, "n_features": 2, "seed": 1},
        hyperparams=hyperparams(architecture="logistic"),
    )
    response = env.client.post(JOBS_URL, json=body)
    assert response.status_code == 422
    assert "regression" in response.json()["detail"]


def test_rejected_job_is_not_stored_or_run(env):
    post(env, lr=-1)
    with session_scope(env.deps.session_factory) as session:
        assert list_jobs(session) == []
    assert env.registry.calls == []


def test_train_config_carries_every_hyperparameter():
    hp = Hyperparams(
        architecture="mlp",
        lr=0.05,
        epochs=4,
        batch_size=8,
        grad_accum_steps=2,
        momentum=0.5,
        schedule="warmup_cosine",
        warmup_steps=3,
        mixed_precision=True,
        hidden_units=7,
    )
    config = build_train_config(hp, DatasetSpec(n_samples=32, n_features=2))
    assert (config.model, config.hidden, config.lr, config.epochs) == ("mlp", (7,), 0.05, 4)
    assert (config.batch_size, config.accumulation_steps, config.momentum) == (8, 2, 0.5)
    assert (config.schedule, config.warmup_steps, config.mixed_precision) == (
        "warmup_cosine",
        3,
        True,
    )


def test_architecture_defaults_by_dataset_task():
    hp = Hyperparams()
    assert build_train_config(hp, DatasetSpec(kind="blobs", n_samples=32, n_features=2)).model == (
        "logistic"
    )
    regression = DatasetSpec(kind="linear_regression", n_samples=32, n_features=2)
    assert build_train_config(hp, regression).model == "linear"


def test_the_largest_accumulation_and_seed_are_accepted_and_one_more_is_not():
    assert Hyperparams(grad_accum_steps=64).grad_accum_steps == 64
    assert DatasetSpec(n_samples=8, n_features=1, seed=2**32 - 1).seed == 2**32 - 1
    with pytest.raises(ValueError, match="grad_accum_steps"):
        Hyperparams(grad_accum_steps=65)
    with pytest.raises(ValueError, match="seed"):
        DatasetSpec(n_samples=8, n_features=1, seed=2**32)
