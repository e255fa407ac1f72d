"""A broker that fails when a run ends loses the announcement, never the committed end."""

from __future__ import annotations

import pytest

from shared.backends import ports
from tests.utils.experiments import EXPERIMENTS_DB, RUNS

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def test_ending_a_run_while_the_broker_is_down_still_ends_it(
    experiments_api, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*_args, **_kwargs):
        raise ConnectionError("broker unreachable")

    run = experiments_api.start()
    monkeypatch.setattr(ports().bus, "publish", broker_down)
    with django_capture_on_commit_callbacks(execute=True, using="experiments_db"):
        ended = experiments_api.end(run["run_id"])
    assert ended["status"] == "finished"
    stored = experiments_api.ok(experiments_api.get(f"{RUNS}/{run['run_id']}"))
    assert stored["status"] == "finished"
