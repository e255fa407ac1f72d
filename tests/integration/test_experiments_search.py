"""Run search: runs are found through the search index once their change has committed."""

from __future__ import annotations

import pytest

from tests.utils.experiments import EXPERIMENTS_DB

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]
SEARCH = "/api/v1/search/runs"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the service defers to after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True, using="experiments_db")


def search(api, **params) -> dict:
    return api.ok(api.get(SEARCH, **params))


def test_started_run_is_found_by_words_of_its_name_and_notes(experiments_api, committed):
    with committed():
        run = experiments_api.start(name="wide-net", notes="dropout sweep on churn")
        experiments_api.start(name="narrow-net", notes="baseline")
    found = search(experiments_api, q="dropout churn")
    assert [hit["run_id"] for hit in found["items"]] == [run["run_id"]]
    assert found["total"] == 1


def test_ended_run_is_found_with_its_final_status(experiments_api, committed):
    with committed():
        run = experiments_api.start(notes="ends badly")
        experiments_api.end(run["run_id"], status="failed")
    hits = search(experiments_api, status="failed")["items"]
    assert [(h["run_id"], h["status"]) for h in hits] == [(run["run_id"], "failed")]
    assert search(experiments_api, status="running")["total"] == 0


def test_search_filters_by_exact_experiment(experiments_api, committed):
    with committed():
        mine = experiments_api.start(experiment="churn-a", notes="same words")
        experiments_api.start(experiment="churn-ab", notes="same words")
    hits = search(experiments_api, experiment="churn-a", q="same")["items"]
    assert [h["run_id"] for h in hits] == [mine["run_id"]]


def test_search_returns_at_most_size_hits_and_counts_them_all(experiments_api, committed):
    with committed():
        for i in range(4):
            experiments_api.start(notes=f"grid point {i}")
    found = search(experiments_api, q="grid", size=3)
    assert len(found["items"]) == 3
    assert found["total"] == 4


def test_run_rolled_back_never_reaches_the_index(experiments_api, committed):
    with committed():
        run = experiments_api.start(notes="kept")
        experiments_api.end(run["run_id"])
        refused = experiments_api.post(f"/api/v1/runs/{run['run_id']}/end", {"status": "failed"})
    assert refused.status_code == 409
    assert [h["status"] for h in search(experiments_api, q="kept")["items"]] == ["finished"]


@pytest.mark.parametrize(
    "params", [{"status": "paused"}, {"size": 0}, {"size": 101}, {"experiment": "no spaces"}]
)
def test_search_refuses_bad_parameters_with_422(experiments_api, params):
    response = experiments_api.get(SEARCH, **params)
    assert response.status_code == 422
    assert response.json()["detail"]
