"""Each Django service reaches its upstream at the address configured for it alone."""

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, ExperimentsAPI
from tests.utils.links import linked_services
from tests.utils.registry import create_version, version_payload

pytestmark = [pytest.mark.registry, EXPERIMENTS_DB]


def test_registry_given_only_its_experiments_address_refuses_an_unknown_run():
    environ = {"SYNAPSE_REGISTRY_EXPERIMENTS_URL": "http://experiments"}
    with linked_services(environ) as http:
        refused = http.post(
            "http://registry/api/v1/registered-models/ledger-v2/versions",
            json=version_payload(run_id="ffffeeee0000111122223333aaaabbbb"),
        )
    assert refused.status_code == 422, refused.text


def test_experiments_given_only_its_registry_address_lists_a_runs_versions():
    run = ExperimentsAPI().start("ledger-search")
    create_version("ledger-v2", run_id=run["run_id"])
    create_version("ledger-v2", run_id=run["run_id"], stage="Staging")
    environ = {"SYNAPSE_EXPERIMENTS_REGISTRY_URL": "http://registry"}
    with linked_services(environ) as http:
        listed = http.get(f"http://experiments/api/v1/runs/{run['run_id']}/model-versions")
    assert listed.status_code == 200, listed.text
    assert [(v["version"], v["stage"]) for v in listed.json()["items"]] == [
        (1, "None"),
        (2, "Staging"),
    ]
