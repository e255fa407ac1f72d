"""Comparison of list params (element by element, by value) and of metrics a run lacks."""

from __future__ import annotations

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, point

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def start_raw(api, params: str) -> str:
    """Start a run whose params are written by hand (every digit kept); return its id."""
    return api.ok(api.post(RUNS, '{"experiment": "arch-sweep", "params": ' + params + "}"), 201)[
        "run_id"
    ]


def param_row(comparison, key):
    return next(row for row in comparison["params"] if row["key"] == key)


def test_a_list_param_is_returned_as_the_list_that_was_logged(experiments_api):
    run_id = start_raw(experiments_api, '{"layers": [64, 32.50, "relu"]}')
    run = experiments_api.ok(experiments_api.get(f"{RUNS}/{run_id}"))
    assert run["params"]["layers"] == [64, 32.5, "relu"]


def test_equal_lists_of_numbers_are_the_same_param(experiments_api):
    a = start_raw(experiments_api, '{"layers": [64, 32]}')
    b = start_raw(experiments_api, '{"layers": [64, 32.0]}')
    comparison = experiments_api.compare(a, b)
    assert comparison["differing_params"] == []
    assert param_row(comparison, "layers")["differs"] is False


def test_lists_of_other_lengths_or_values_are_different_params(experiments_api):
    a = start_raw(experiments_api, '{"layers": [64, 32], "heads": [4, 4]}')
    b = start_raw(experiments_api, '{"layers": [64, 32, 16], "heads": [4, 8]}')
    assert experiments_api.compare(a, b)["differing_params"] == ["heads", "layers"]


def test_a_metric_the_first_run_lacks_has_no_final_delta(experiments_api):
    a = start_raw(experiments_api, '{"layers": [8]}')
    b = start_raw(experiments_api, '{"layers": [16]}')
    experiments_api.log(b, [point("loss", 0.5, 0), point("loss", 0.25, 1)])
    (row,) = experiments_api.compare(a, b)["metrics"]
    assert row["final"] == [None, "0.25"]
    assert row["final_delta"] is None
    assert row["best_run_id"] == b


def test_lineage_of_a_deep_fork_chain_stops_at_a_hundred_ancestors(experiments_api):
    from services.experiments.models import Experiment, Run

    experiment = Experiment.objects.using("experiments_db").create(name="deep-forks")
    chain = [
        Run(id=i, run_id=f"{i:032x}", experiment=experiment, parent_id=i - 1 if i > 1 else None)
        for i in range(1, 103)
    ]
    Run.objects.using("experiments_db").bulk_create(chain)
    ancestors = experiments_api.ok(experiments_api.get(f"{RUNS}/{102:032x}/lineage"))
    assert [run["run_id"] for run in ancestors] == [f"{i:032x}" for i in range(101, 1, -1)]
