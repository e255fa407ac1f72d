"""Forks: a new run with its parent, the parent's params and, unless told, its seed."""

from __future__ import annotations

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, run_url

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def test_fork_keeps_the_parent_seed(experiments_api):
    parent = experiments_api.start(seed=1234)
    assert experiments_api.fork(parent["run_id"])["seed"] == 1234


def test_fork_of_a_fork_keeps_the_original_seed(experiments_api):
    parent = experiments_api.start(seed=99)
    child = experiments_api.fork(parent["run_id"])
    assert experiments_api.fork(child["run_id"])["seed"] == 99


def test_fork_copies_params_with_overrides_and_seed(experiments_api):
    parent = experiments_api.start(seed=7, params={"lr": 0.1, "epochs": 5})
    fork = experiments_api.fork(parent["run_id"], params={"epochs": 8})
    assert (fork["params"], fork["seed"]) == ({"lr": 0.1, "epochs": 8}, 7)


def test_fork_records_its_parent_and_experiment(experiments_api):
    parent = experiments_api.start("tuning", seed=5)
    fork = experiments_api.fork(parent["run_id"], name="retry")
    assert (fork["parent_run_id"], fork["experiment"], fork["name"], fork["seed"]) == (
        parent["run_id"],
        "tuning",
        "retry",
        5,
    )


def test_lineage_lists_ancestors_nearest_first(experiments_api):
    root = experiments_api.start(seed=3)
    child = experiments_api.fork(root["run_id"])
    grandchild = experiments_api.fork(child["run_id"])
    lineage = experiments_api.ok(experiments_api.get(run_url(grandchild["run_id"], "lineage")))
    assert [(r["run_id"], r["seed"]) for r in lineage] == [
        (child["run_id"], 3),
        (root["run_id"], 3),
    ]
