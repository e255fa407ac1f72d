"""Job orchestration: submit, run, record outcome, idempotent re-runs, reproducibility."""

from datetime import UTC

import pytest

from services.training.main import get_job, run_job
from shared.ml.model_loader import load_model
from tests.utils.training import (
    JOBS_URL,
    FakeRegistry,
    dataset_spec,
    fetch,
    hyperparams,
    job_payload,
    make_training_env,
    submit,
)
from tests.utils.training import run_job as run_to_end

pytestmark = pytest.mark.training


@pytest.fixture
def env(tmp_path):
    return make_training_env(tmp_path)


def artifact_path(job):
    return job["artifact_uri"].removeprefix("file://")


def test_submission_answers_202_with_the_queued_status(env):
    response = env.client.post(JOBS_URL, json=job_payload())
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.headers["Location"] == f"{JOBS_URL}/{response.json()['id']}"


def test_finished_job_records_metrics_and_registered_version(env):
    job = run_to_end(env)
    assert job["status"] == "succeeded"
    assert job["model_version"] == 1
    assert job["metrics"]["accuracy"] > 0.8
    assert job["error"] is None and job["attempts"] == 1


def test_job_registers_run_id_metrics_and_input_schema(env):
    job = run_to_end(env, dataset=dataset_spec(n_features=4))
    [version] = env.registry.versions["churn"]
    assert version["run_id"] == job["id"]
    assert version["metrics"] == job["metrics"]
    assert version["input_schema"] == {"features": ["f0", "f1", "f2", "f3"]}
    assert version["artifact_uri"] == job["artifact_uri"]


def test_new_version_names_the_production_version_as_parent(tmp_path):
    env = make_training_env(tmp_path, registry=FakeRegistry(production={"churn": 4}))
    run_to_end(env)
    assert env.registry.versions["churn"][0]["parent_version"] == 4


def test_first_version_has_no_parent(env):
    run_to_end(env)
    assert "parent_version" not in env.registry.versions["churn"][0]


def test_artifact_is_saved_under_the_model_and_job_directory(env):
    job = run_to_end(env)
    expected = (env.artifact_root / "churn" / job["id"] / "model.npz").resolve()
    assert artifact_path(job) == str(expected)
    assert load_model(expected).kind == "logistic"


def test_saved_artifact_keeps_the_training_column_order(env):
    job = run_to_end(env, dataset=dataset_spec(n_features=12, n_samples=64))
    artifact = load_model(artifact_path(job))
    assert artifact.input_schema == [f"f{i}" for i in range(12)]
    registered = env.registry.versions["churn"][0]["input_schema"]["features"]
    assert registered == artifact.input_schema


def test_regression_job_trains_a_linear_model(env):
    job = run_to_end(env, dataset=dataset_spec(kind="regression", n_samples=80))
    assert job["status"] == "succeeded"
    assert {"rmse", "r2"} <= set(job["metrics"])
    assert load_model(artifact_path(job)).kind == "linear"


def test_same_spec_and_seed_give_identical_metrics_and_artifact(env):
    first = run_to_end(env)
    second = run_to_end(env)
    assert first["metrics"] == second["metrics"]
    shas = [v["params"]["artifact_sha256"] for v in env.registry.versions["churn"]]
    assert shas[0] == shas[1]


def test_different_training_seed_gives_a_different_artifact(env):
    run_to_end(env, hyperparams=hyperparams(seed=1))
    run_to_end(env, hyperparams=hyperparams(seed=2))
    shas = [v["params"]["artifact_sha256"] for v in env.registry.versions["churn"]]
    assert shas[0] != shas[1]


def test_rerunning_a_succeeded_job_changes_nothing(env):
    job = run_to_end(env)
    assert env.run(job["id"]) == "succeeded"
    assert len(env.registry.versions["churn"]) == 1
    assert fetch(env, job["id"]) == job


def test_failed_job_can_be_retried_and_counts_attempts(tmp_path):
    registry = FakeRegistry(fail_register=RuntimeError("registry unreachable"))
    env = make_training_env(tmp_path, registry=registry)
    job = run_to_end(env)
    assert job["status"] == "failed"
    registry.fail_register = None
    assert run_job(job["id"], env.deps) == "succeeded"
    retried = fetch(env, job["id"])
    assert (retried["attempts"], retried["model_version"], retried["error"]) == (2, 1, None)


def test_job_timestamps_are_aware_utc(env):
    job_id = submit(env)["id"]
    record = get_job(job_id, env.deps)
    for stamp in (record.created_at, record.started_at, record.finished_at):
        assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0
    assert record.created_at < record.started_at < record.finished_at
    assert record.created_at.astimezone(UTC).hour == 5


def test_unknown_job_is_404(env):
    response = env.client.get(f"{JOBS_URL}/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_jobs_can_be_listed_per_model(env):
    run_to_end(env, "churn")
    run_to_end(env, "fraud")
    body = env.client.get(JOBS_URL, params={"model_name": "fraud"}).json()
    assert body["total"] == 1 and body["items"][0]["model_name"] == "fraud"
