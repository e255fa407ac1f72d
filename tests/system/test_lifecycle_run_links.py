"""A trained version points at its job's experiment run, and the run lists the version back."""

import pytest

from tests.utils.links import linked_services
from tests.utils.platform import PLATFORM_DB

pytestmark = [pytest.mark.training, PLATFORM_DB]

EXPERIMENTS = "/api/experiments/api/v1"


def test_trained_version_links_to_the_run_its_job_logged(platform):
    with linked_services(transport=platform.transport):
        trained = platform.train("churn")
        run_id = platform.version("churn", trained.version)["run_id"]
        run = platform.gateway.get(f"{EXPERIMENTS}/runs/{run_id}")
    assert run.status_code == 200, run.text
    assert run.json()["tags"]["job_id"] == trained.job["id"]


def test_run_lists_the_version_its_job_registered_and_its_promotion(platform):
    with linked_services(transport=platform.transport):
        trained = platform.train("churn")
        platform.promote("churn", trained.version)
        run_id = platform.version("churn", trained.version)["run_id"]
        listed = platform.gateway.get(f"{EXPERIMENTS}/runs/{run_id}/model-versions")
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [
        {"name": "churn", "version": trained.version, "stage": "Production"}
    ]
