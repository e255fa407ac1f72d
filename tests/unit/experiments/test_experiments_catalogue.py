"""Experiments, tags and artifact references as clients create and read them."""

from __future__ import annotations

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]
EXPERIMENTS = "/api/v1/experiments"


def create(api, name: str, description: str = "", status: int = 201) -> dict:
    return api.ok(api.post(EXPERIMENTS, {"name": name, "description": description}), status)


def test_new_experiment_is_created_with_its_description(experiments_api):
    created = create(experiments_api, "churn-v2", "second attempt")
    shown = experiments_api.ok(experiments_api.get(f"{EXPERIMENTS}/churn-v2"))
    assert shown["name"] == created["name"] == "churn-v2"
    assert shown["description"] == "second attempt"


def test_creating_a_taken_name_returns_the_existing_experiment_unchanged(experiments_api):
    create(experiments_api, "churn-v2", "first words")
    again = create(experiments_api, "churn-v2", "other words", status=200)
    assert again["description"] == "first words"
    assert experiments_api.ok(experiments_api.get(EXPERIMENTS))["total"] == 1


def test_experiments_are_listed_by_name_a_page_at_a_time(experiments_api):
    for name in ("gamma", "alpha", "beta"):
        create(experiments_api, name)
    page = experiments_api.ok(experiments_api.get(EXPERIMENTS, limit=2, offset=1))
    assert [e["name"] for e in page["items"]] == ["beta", "gamma"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)


def test_starting_a_run_creates_its_experiment(experiments_api):
    experiments_api.start(experiment="implicit-exp")
    shown = experiments_api.ok(experiments_api.get(f"{EXPERIMENTS}/implicit-exp"))
    assert shown["name"] == "implicit-exp"


def test_unknown_experiment_is_404(experiments_api):
    response = experiments_api.get(f"{EXPERIMENTS}/never-made")
    assert response.status_code == 404
    assert "never-made" in response.json()["detail"]


@pytest.mark.parametrize("name", ["-leading-dash", "has space", "x" * 129, ""])
def test_experiment_names_that_are_not_identifiers_are_refused(experiments_api, name):
    response = experiments_api.post(EXPERIMENTS, {"name": name})
    assert response.status_code in (400, 422)
    assert experiments_api.ok(experiments_api.get(EXPERIMENTS))["total"] == 0


def test_tags_set_later_join_and_override_the_start_tags(experiments_api):
    run = experiments_api.start(tags={"owner": "ana", "stage": "draft"})
    url = run_url(run["run_id"], "tags")
    tagged = experiments_api.ok(experiments_api.post(url, {"tags": {"stage": "review", "x": ""}}))
    assert tagged["tags"] == {"owner": "ana", "stage": "review", "x": ""}


def test_tags_survive_the_end_of_the_run(experiments_api):
    run = experiments_api.start()
    experiments_api.post(run_url(run["run_id"], "tags"), {"tags": {"keep": "yes"}})
    ended = experiments_api.end(run["run_id"])
    assert ended["tags"] == {"keep": "yes"}


def test_more_tags_than_allowed_are_refused_and_none_is_stored(experiments_api):
    run = experiments_api.start()
    tags = {f"t{i}": "v" for i in range(65)}
    response = experiments_api.post(run_url(run["run_id"], "tags"), {"tags": tags})
    assert response.status_code in (400, 422)
    shown = experiments_api.ok(experiments_api.get(run_url(run["run_id"])))
    assert shown["tags"] == {}


def test_tag_value_at_the_length_limit_is_kept_and_one_more_is_refused(experiments_api):
    run = experiments_api.start()
    url = run_url(run["run_id"], "tags")
    kept = experiments_api.ok(experiments_api.post(url, {"tags": {"note": "n" * 512}}))
    assert kept["tags"]["note"] == "n" * 512
    assert experiments_api.post(url, {"tags": {"note": "n" * 513}}).status_code in (400, 422)


def test_tags_of_an_unknown_run_are_404(experiments_api):
    response = experiments_api.post(run_url("0" * 32, "tags"), {"tags": {"a": "b"}})
    assert response.status_code == 404


def test_artifact_references_are_listed_by_path(experiments_api):
    run_id = experiments_api.start()["run_id"]
    url = run_url(run_id, "artifacts")
    for path in ("model/weights.npz", "data/manifest.json"):
        experiments_api.ok(experiments_api.post(url, {"path": path, "uri": f"s3://a/{path}"}), 201)
    listed = experiments_api.ok(experiments_api.get(url))
    assert [a["path"] for a in listed] == ["data/manifest.json", "model/weights.npz"]
    assert listed[1]["uri"] == "s3://a/model/weights.npz"


def test_artifact_path_pointed_elsewhere_is_a_conflict_and_keeps_the_first_uri(experiments_api):
    run_id = experiments_api.start()["run_id"]
    url = run_url(run_id, "artifacts")
    experiments_api.ok(experiments_api.post(url, {"path": "m.npz", "uri": "s3://a/one"}), 201)
    assert experiments_api.post(url, {"path": "m.npz", "uri": "s3://a/two"}).status_code == 409
    assert experiments_api.ok(experiments_api.get(url))[0]["uri"] == "s3://a/one"


def test_artifact_reference_that_is_not_a_uri_is_refused(experiments_api):
    run_id = experiments_api.start()["run_id"]
    response = experiments_api.post(run_url(run_id, "artifacts"), {"path": "m", "uri": "m.npz"})
    assert response.status_code in (400, 422)
    assert experiments_api.ok(experiments_api.get(run_url(run_id, "artifacts"))) == []
