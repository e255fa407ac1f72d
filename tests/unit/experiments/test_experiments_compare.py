"""Run comparison: params and metrics side by side, numbers compared exactly."""

from __future__ import annotations

import json

import pytest

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, point

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]


def start_raw(api, params: str, experiment: str = "lr-sweep") -> str:
    """Start a run whose params are written by hand (every digit kept); return its id."""
    body = '{"experiment": ' + json.dumps(experiment) + ', "params": ' + params + "}"
    return api.ok(api.post(RUNS, body), 201)["run_id"]


def param_row(comparison, key):
    return next(row for row in comparison["params"] if row["key"] == key)


def metric_row(comparison, key):
    return next(row for row in comparison["metrics"] if row["key"] == key)


def test_nearby_learning_rates_are_different_params(experiments_api):
    a = start_raw(experiments_api, '{"lr": 0.1}')
    b = start_raw(experiments_api, '{"lr": 0.10000000000000001}')
    assert experiments_api.compare(a, b)["differing_params"] == ["lr"]


def test_param_values_are_shown_as_written(experiments_api):
    a = start_raw(experiments_api, '{"lr": 0.1}')
    b = start_raw(experiments_api, '{"lr": 0.10000000000000001}')
    row = param_row(experiments_api.compare(a, b), "lr")
    assert row["values"] == ["0.1", "0.10000000000000001"]


def test_integer_and_float_of_the_same_number_are_equal(experiments_api):
    a = start_raw(experiments_api, '{"epochs": 10, "lr": 0.1}')
    b = start_raw(experiments_api, '{"epochs": 10.0, "lr": 0.10000000000000001}')
    comparison = experiments_api.compare(a, b)
    assert comparison["differing_params"] == ["lr"]
    assert param_row(comparison, "epochs")["differs"] is False


def test_text_is_never_equal_to_a_number(experiments_api):
    a = start_raw(experiments_api, '{"depth": 3, "lr": 0.3}')
    b = start_raw(experiments_api, '{"depth": "3", "lr": 0.29999999999999999}')
    assert experiments_api.compare(a, b)["differing_params"] == ["depth", "lr"]


def test_param_missing_from_one_run_differs(experiments_api):
    a = start_raw(experiments_api, '{"dropout": 0.2, "lr": 0.01}')
    b = start_raw(experiments_api, '{"lr": 0.010000000000000001}')
    comparison = experiments_api.compare(a, b)
    assert param_row(comparison, "dropout")["values"] == ["0.2", None]
    assert comparison["differing_params"] == ["dropout", "lr"]


def test_metric_delta_between_runs_is_exact(experiments_api):
    a = start_raw(experiments_api, "{}")
    b = start_raw(experiments_api, "{}")
    experiments_api.log(a, [point("accuracy", 0.1)])
    experiments_api.log(b, [point("accuracy", 0.3)])
    assert metric_row(experiments_api.compare(a, b), "accuracy")["final_delta"] == "0.2"


def test_loss_improvement_is_an_exact_negative_delta(experiments_api):
    a = start_raw(experiments_api, "{}")
    b = start_raw(experiments_api, "{}")
    experiments_api.log(a, [point("val_loss", 0.7), point("val_loss", 0.3)])
    experiments_api.log(b, [point("val_loss", 0.2), point("val_loss", 0.1)])
    assert metric_row(experiments_api.compare(a, b), "val_loss")["final_delta"] == "-0.2"


def test_best_loss_is_the_lowest_and_best_accuracy_the_highest(experiments_api):
    run = start_raw(experiments_api, "{}")
    other = start_raw(experiments_api, "{}")
    experiments_api.log(run, [point("loss", 0.5), point("loss", 0.2), point("loss", 0.3)])
    experiments_api.log(run, [point("accuracy", 0.7), point("accuracy", 0.9)])
    experiments_api.log(other, [point("accuracy", 0.75)])
    comparison = experiments_api.compare(run, other)
    assert metric_row(comparison, "loss")["best"] == ["0.2", None]
    accuracy = metric_row(comparison, "accuracy")
    assert (accuracy["final"], accuracy["best_run_id"]) == (["0.9", "0.75"], run)


def test_final_metric_values_keep_every_digit(experiments_api):
    a = start_raw(experiments_api, "{}")
    b = start_raw(experiments_api, "{}")
    experiments_api.log(a, [point("auc", 0.5)])
    body = '{"points": [{"key": "auc", "value": 0.50000000000000001}]}'
    experiments_api.ok(experiments_api.post(f"{RUNS}/{b}/metrics", body), 201)
    row = metric_row(experiments_api.compare(a, b), "auc")
    assert (row["final"], row["final_delta"]) == (["0.5", "0.50000000000000001"], "1E-17")


def test_comparison_lists_runs_in_the_order_asked(experiments_api):
    a = start_raw(experiments_api, '{"lr": 0.2}')
    b = start_raw(experiments_api, '{"lr": 0.20000000000000001}')
    comparison = experiments_api.compare(b, a)
    assert comparison["run_ids"] == [b, a]
    assert param_row(comparison, "lr")["values"] == ["0.20000000000000001", "0.2"]
