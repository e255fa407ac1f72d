"""Experiments lists the model versions the registry holds for a run."""

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, ExperimentsAPI
from tests.utils.links import linked_services
from tests.utils.registry import version_payload

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]

REGISTER = "http://registry/api/v1/registered-models/{name}/versions"


def run_versions(http, run_id: str):
    return http.get(f"http://experiments/api/v1/runs/{run_id}/model-versions")


def test_run_lists_the_versions_registered_from_it_with_their_stage():
    run = ExperimentsAPI().start("fraud-search")
    with linked_services() as http:
        for name in ("fraud", "fraud", "chargeback"):
            http.post(REGISTER.format(name=name), json=version_payload(run_id=run["run_id"]))
        listed = run_versions(http, run["run_id"])
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "run_id": run["run_id"],
        "items": [
            {"name": "chargeback", "version": 1, "stage": "None"},
            {"name": "fraud", "version": 1, "stage": "None"},
            {"name": "fraud", "version": 2, "stage": "None"},
        ],
    }


def test_run_without_versions_lists_none():
    run = ExperimentsAPI().start("fraud-search")
    with linked_services() as http:
        listed = run_versions(http, run["run_id"])
    assert (listed.status_code, listed.json()["items"]) == (200, [])


def test_versions_of_an_unknown_run_are_404():
    with linked_services() as http:
        missing = run_versions(http, "0123456789abcdef0123456789abcdef")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_versions_of_a_run_without_a_registry_address_are_503():
    run = ExperimentsAPI().start("fraud-search")
    only_registry_side = {"SYNAPSE_REGISTRY_EXPERIMENTS_URL": "http://experiments"}
    with linked_services(only_registry_side) as http:
        refused = run_versions(http, run["run_id"])
    assert refused.status_code == 503
    assert "registry" in refused.json()["detail"]
