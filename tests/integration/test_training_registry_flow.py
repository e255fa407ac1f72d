"""POST a job → Celery task (eager) → version in the real registry → GET shows the outcome."""

import pytest

from services.training.main import lock_name
from shared.ml.model_loader import file_sha256, load_model
from tests.utils.registry import create_version, versions_url
from tests.utils.training import (
    REGISTRY_TRANSACTIONAL_DB,
    http_registry,
    make_training_env,
    run_job,
    submit,
)

pytestmark = [pytest.mark.training, REGISTRY_TRANSACTIONAL_DB]


@pytest.fixture
def env(tmp_path, registry_app):
    return make_training_env(tmp_path, registry=http_registry(registry_app))


def registry_versions(env, name):
    response = env.registry.client.get(versions_url(name))
    return [] if response.status_code == 404 else response.json()["items"]


def test_posted_job_registers_a_version_in_the_registry(env):
    job = run_job(env, "churn")
    [version] = registry_versions(env, "churn")
    assert version["version"] == job["model_version"] == 1
    assert version["run_id"] == job["id"]
    assert version["artifact_uri"] == job["artifact_uri"]


def test_job_shows_succeeded_with_metrics_and_version(env):
    job = run_job(env, "churn")
    assert job["status"] == "succeeded"
    assert job["model_version"] == 1
    assert 0.0 <= job["metrics"]["accuracy"] <= 1.0
    assert job["error"] is None


def test_registry_holds_the_job_metrics_and_input_schema(env):
    job = run_job(env, "churn")
    [version] = registry_versions(env, "churn")
    assert version["metrics"] == pytest.approx(job["metrics"])
    assert version["input_schema"] == {"features": ["f0", "f1", "f2"]}


def test_second_job_registers_the_next_version(env):
    first = run_job(env, "churn")
    second = run_job(env, "churn")
    assert (first["model_version"], second["model_version"]) == (1, 2)


def test_new_version_descends_from_the_production_version(env):
    create_version("churn", stage="Production")
    job = run_job(env, "churn")
    assert job["model_version"] == 2
    detail = env.registry.client.get_json(versions_url("churn", 2))
    assert detail["parent_version"] == 1


def test_registered_artifact_loads_and_matches_its_checksum(env):
    run_job(env, "churn")
    [version] = registry_versions(env, "churn")
    path = version["artifact_uri"].removeprefix("file://")
    assert file_sha256(path) == version["params"]["artifact_sha256"]
    assert load_model(path).input_schema == ["f0", "f1", "f2"]


def test_job_fails_cleanly_while_another_holder_has_the_model_lock(env):
    holder = env.deps.lock_factory(lock_name("churn"), 600)
    assert holder.acquire(timeout=0)
    job_id = submit(env, "churn")["id"]
    job = env.client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "failed"
    assert "another job" in job["error"]
    assert registry_versions(env, "churn") == []
    holder.release()
    assert run_job(env, "churn")["model_version"] == 1
