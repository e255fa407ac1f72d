"""Run listings: filters, orderings and pages; times from clients in different zones agree."""

from __future__ import annotations

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, RUNS

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]

START = "2026-03-10T00:00:00Z"


def finished(api, when: str, **fields) -> str:
    """Start a run at START, end it at ``when``; return its id."""
    return api.finished_run(when, started_at=START, **fields)["run_id"]


def ids(page) -> list[str]:
    return [item["run_id"] for item in page["items"]]


def test_runs_finished_in_two_zones_are_ordered_by_instant(experiments_api):
    delhi = finished(experiments_api, "2026-03-10T09:00:00+05:30")  # 03:30 UTC
    london = finished(experiments_api, "2026-03-10T04:00:00Z")
    assert ids(experiments_api.runs(order_by="finished_at")) == [delhi, london]


def test_latest_finished_run_comes_first_across_zones(experiments_api):
    early = finished(experiments_api, "2026-03-10T07:45:00+05:30")  # 02:15 UTC
    late = finished(experiments_api, "2026-03-10T03:00:00Z")
    assert ids(experiments_api.runs(order_by="-finished_at")) == [late, early]


def test_finished_after_written_with_an_offset_selects_by_instant(experiments_api):
    finished(experiments_api, "2026-03-10T03:00:00Z")
    later = finished(experiments_api, "2026-03-10T05:00:00Z")
    page = experiments_api.runs(finished_after="2026-03-10T09:00:00+05:30")  # 03:30 UTC
    assert ids(page) == [later]


def test_finished_before_written_with_a_negative_offset_selects_by_instant(experiments_api):
    early = finished(experiments_api, "2026-03-10T03:00:00Z")
    finished(experiments_api, "2026-03-10T05:00:00Z")
    page = experiments_api.runs(finished_before="2026-03-09T23:30:00-04:00")  # 03:30 UTC
    assert ids(page) == [early]


def test_finished_after_without_an_offset_is_refused(experiments_api):
    response = experiments_api.get(RUNS, finished_after="2026-03-10T03:30:00")
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["query", "finished_after"]


def test_runs_filter_by_experiment_status_and_end(experiments_api):
    finished(experiments_api, "2026-03-10T06:00:00+05:30", experiment="a")  # 00:30Z
    wanted = finished(experiments_api, "2026-03-10T01:30:00Z", experiment="a")
    finished(experiments_api, "2026-03-10T02:00:00Z", experiment="b")
    experiments_api.start("a")
    page = experiments_api.runs(
        experiment="a", status="finished", finished_after="2026-03-10T01:15:00Z"
    )
    assert (ids(page), page["total"]) == ([wanted], 1)


def test_pages_cover_every_run_once_in_start_order(experiments_api):
    starts = [
        "2026-03-10T05:00:00+05:30",  # 23:30Z the day before
        "2026-03-10T00:00:00Z",
        "2026-03-09T20:30:00-04:00",  # 00:30Z
        "2026-03-10T06:45:00+05:30",  # 01:15Z
        "2026-03-10T02:00:00Z",
    ]
    made = [experiments_api.start(started_at=when)["run_id"] for when in starts]
    pages = [
        experiments_api.runs(limit=2, offset=offset, order_by="started_at") for offset in (0, 2, 4)
    ]
    assert [run for page in pages for run in ids(page)] == made
    assert {page["total"] for page in pages} == {5}


@pytest.mark.parametrize("ordering", ["password", "experiment__name", "-params__value"])
def test_unknown_orderings_are_refused(experiments_api, ordering):
    experiments_api.start()
    response = experiments_api.get(RUNS, order_by=ordering)
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["query", "order_by"]


def test_unknown_filters_are_refused(experiments_api):
    response = experiments_api.get(RUNS, experiment__description__contains="x")
    assert response.status_code == 422
