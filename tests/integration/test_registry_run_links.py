"""A version records the experiment run it came from; the registry refuses unknown runs."""

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, ExperimentsAPI
from tests.utils.links import linked_services, linked_transport
from tests.utils.registry import version_payload

pytestmark = [pytest.mark.registry, EXPERIMENTS_DB]

VERSIONS = "http://registry/api/v1/registered-models/{name}/versions"


def register(http, name: str, **fields):
    return http.post(VERSIONS.format(name=name), json=version_payload(**fields))


def test_version_registered_from_a_run_shows_that_run():
    run = ExperimentsAPI().start("churn-search")
    with linked_services() as http:
        created = register(http, "churn", run_id=run["run_id"])
        shown = http.get(VERSIONS.format(name="churn") + "/1")
    assert created.status_code == 201, created.text
    assert shown.json()["run_id"] == run["run_id"]


def test_version_naming_an_unknown_run_is_refused_naming_the_run():
    with linked_services() as http:
        refused = register(http, "churn", run_id="0123456789abcdef0123456789abcdef")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["details"][0]["loc"] == ["run_id"]
    assert "0123456789abcdef0123456789abcdef" in body["detail"]


def test_refused_registration_leaves_no_version_behind():
    with linked_services() as http:
        register(http, "churn", run_id="0123456789abcdef0123456789abcdef")
        listed = http.get(VERSIONS.format(name="churn"))
        kept = register(http, "churn", run_id=ExperimentsAPI().start()["run_id"])
    assert listed.status_code == 404
    assert kept.json()["version"] == 1


def test_registration_while_experiments_is_unreachable_is_503_and_stores_nothing():
    transport = linked_transport()
    transport.unmount("experiments")
    with linked_services(transport=transport) as http:
        refused = register(http, "churn", run_id="0123456789abcdef0123456789abcdef")
        listed = http.get(VERSIONS.format(name="churn"))
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert listed.status_code == 404


def test_versions_of_two_models_registered_from_one_run_are_listed_by_run():
    api = ExperimentsAPI()
    run, other = api.start("churn-search"), api.start("churn-search")
    with linked_services() as http:
        register(http, "churn", run_id=run["run_id"])
        register(http, "upsell", run_id=other["run_id"])
        register(http, "upsell", run_id=run["run_id"])
        listed = http.get("http://registry/api/v1/model-versions", params={"run_id": run["run_id"]})
    assert [(v["name"], v["version"]) for v in listed.json()["items"]] == [
        ("churn", 1),
        ("upsell", 2),
    ]
