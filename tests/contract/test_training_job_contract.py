"""Shapes of the training API responses, as docs/ARCHITECTURE.md promises them."""

import pytest

from tests.utils.training import (
    JOBS_URL,
    FakeRegistry,
    hyperparams,
    job_payload,
    make_training_env,
    run_job,
)

pytestmark = pytest.mark.training

JOB_FIELDS = {"id", "status", "metrics", "model_version", "error"}


@pytest.fixture
def env(tmp_path):
    return make_training_env(tmp_path)


def test_submit_response_is_exactly_id_and_status(env):
    response = env.client.post(JOBS_URL, json=job_payload())
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status"}
    assert isinstance(body["id"], str) and body["status"] == "queued"


def test_succeeded_job_has_the_contract_fields_and_types(env):
    job = run_job(env)
    assert set(job) >= JOB_FIELDS
    assert job["status"] == "succeeded"
    assert isinstance(job["model_version"], int)
    assert all(isinstance(v, float) for v in job["metrics"].values())
    assert job["error"] is None


def test_failed_job_has_an_error_and_no_version(tmp_path):
    env = make_training_env(tmp_path, registry=FakeRegistry(fail_register=OSError("boom")))
    job = run_job(env)
    assert job["status"] == "failed"
    assert job["model_version"] is None
    assert isinstance(job["error"], str) and "boom" in job["error"]


def test_invalid_job_answers_a_validation_problem(env):
    response = env.client.post(JOBS_URL, json=job_payload(hyperparams=hyperparams(lr=0)))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert isinstance(body["detail"], str) and body["details"][0]["loc"]


def test_unknown_job_answers_a_not_found_problem(env):
    body = env.client.get(f"{JOBS_URL}/nope").json()
    assert set(body) >= {"error", "detail"} and body["error"] == "not_found"


def test_scheduled_job_ends_on_its_configured_final_learning_rate(env):
    params = hyperparams(epochs=3, batch_size=8, grad_accum_steps=3, schedule="warmup_cosine")
    job = run_job(env, hyperparams={**params, "warmup_steps": 2})
    rates = [epoch["lr"] for epoch in job["history"]]
    assert rates[-1] == 0.0
    assert rates[0] > rates[1] > 0.0
