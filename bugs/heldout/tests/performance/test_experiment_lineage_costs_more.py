"""Experiments reads stay bounded on other page sizes and fork depths."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def statements(call) -> int:
    with CaptureQueriesContext(connections["experiments_db"]) as captured:
        assert call().status_code == 200
    return len(captured.captured_queries)


def test_lineage_of_eight_forks_costs_what_two_cost(experiments_api):
    short = experiments_api.start(tags={"n": "0"})
    for _ in range(2):
        short = experiments_api.fork(short["run_id"], tags={"n": "1"})
    deep = experiments_api.start("other", tags={"n": "0"})
    for _ in range(8):
        deep = experiments_api.fork(deep["run_id"], tags={"n": "1"})
    assert statements(
        lambda: experiments_api.get(run_url(deep["run_id"], "lineage"))
    ) == statements(lambda: experiments_api.get(run_url(short["run_id"], "lineage")))


def test_page_of_twelve_tagged_forks_costs_four_statements(experiments_api):
    root = experiments_api.start(tags={"a": "b"})
    for index in range(11):
        experiments_api.fork(root["run_id"], tags={"i": str(index)})
    assert statements(lambda: experiments_api.get(RUNS, limit=12, order_by="-started_at")) == 4
