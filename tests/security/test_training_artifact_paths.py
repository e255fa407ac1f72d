"""A job's model name can never place files outside the artifact root."""

import pytest

from services.training.main import job_directory
from shared.errors import ValidationError
from tests.utils.training import JOBS_URL, job_payload, make_training_env, run_job

pytestmark = pytest.mark.training

HOSTILE_NAMES = ["../escape", "..", "a/../../escape", "/etc/passwd", ".hidden", "a\\..\\b", ""]


@pytest.fixture
def env(tmp_path):
    return make_training_env(tmp_path)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_traversal_model_name_is_rejected_by_the_api(env, name):
    response = env.client.post(JOBS_URL, json=job_payload(model_name=name))
    assert response.status_code == 422


def test_rejected_traversal_writes_nothing_anywhere(env, tmp_path):
    env.client.post(JOBS_URL, json=job_payload(model_name="../escape"))
    assert not (tmp_path / "escape").exists()
    assert not env.artifact_root.exists() or not any(env.artifact_root.iterdir())
    assert env.registry.calls == []


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_job_directory_refuses_names_that_leave_the_root(tmp_path, name):
    with pytest.raises(ValidationError):
        job_directory(tmp_path / "artifacts", name, "job-1")


def test_job_directory_refuses_a_hostile_job_id(tmp_path):
    with pytest.raises(ValidationError):
        job_directory(tmp_path / "artifacts", "churn", "../../x")


def test_artifacts_of_a_dotted_model_name_stay_inside_the_root(env):
    job = run_job(env, "team.churn-v2")
    path = job["artifact_uri"].removeprefix("file://")
    assert path.startswith(str(env.artifact_root.resolve()) + "/team.churn-v2/")
