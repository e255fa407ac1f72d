"""Run listings and reads do a bounded number of queries, however many runs a page holds."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def count_queries(call) -> int:
    """Return how many SQL statements ``call()`` runs on experiments_db."""
    with CaptureQueriesContext(connections["experiments_db"]) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured.captured_queries)


def forked_runs(api, count: int, experiment: str = "grid") -> None:
    """Start a tagged root run and ``count - 1`` tagged forks of it."""
    root = api.start(experiment, seed=1, params={"lr": 0.1}, tags={"team": "a"})
    for index in range(count - 1):
        api.fork(root["run_id"], tags={"try": str(index)})


def test_run_listing_costs_the_same_for_two_runs_and_for_ten(experiments_api):
    forked_runs(experiments_api, 2)
    small = count_queries(lambda: experiments_api.get(RUNS))
    forked_runs(experiments_api, 8, "grid-2")
    assert count_queries(lambda: experiments_api.get(RUNS)) == small


def test_run_listing_page_is_four_queries(experiments_api):
    forked_runs(experiments_api, 6)
    assert count_queries(lambda: experiments_api.get(RUNS, limit=5)) == 4


def test_filtered_listing_of_forks_does_not_grow_with_the_page(experiments_api):
    forked_runs(experiments_api, 3)
    small = count_queries(lambda: experiments_api.get(RUNS, experiment="grid", order_by="-seed"))
    forked_runs(experiments_api, 9, "other")
    for _ in range(6):
        experiments_api.start("grid", tags={"late": "yes"})
    large = count_queries(lambda: experiments_api.get(RUNS, experiment="grid", order_by="-seed"))
    assert large == small


def test_lineage_of_a_deep_fork_chain_reads_each_ancestor_once(experiments_api):
    run = experiments_api.start(seed=1, tags={"depth": "0"})
    for depth in range(1, 6):
        run = experiments_api.fork(run["run_id"], tags={"depth": str(depth)})
    queries = count_queries(lambda: experiments_api.get(run_url(run["run_id"], "lineage")))
    assert queries == 7
