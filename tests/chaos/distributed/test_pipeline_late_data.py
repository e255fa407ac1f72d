"""Late and out-of-order data through a run's transform step: right window or the late count."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import T0, VERSION, at, make_pipeline_env, rec, step

pytestmark = pytest.mark.pipeline

# Ten-minute windows that stay open five minutes past their end.
WINDOWED = [
    step("check", "validate"),
    step("tumble", "transform", "check", window_seconds=600, allowed_lateness_seconds=300),
]


def windowed(*partitions: list) -> dict:
    env = make_pipeline_env()
    env.datasets.add("clicks", VERSION, *partitions)
    env.define("tumbling", WINDOWED)
    run = env.run("tumbling")
    assert run["status"] == "succeeded", run["error"]
    return env.steps(run)["tumble"]["output"]


def counts(output: dict) -> dict[str, int]:
    return {w["start"]: w["count"] for w in output["windows"]}


def test_rows_arriving_after_their_window_closed_are_counted_late() -> None:
    output = windowed([rec(1), rec(12), rec(31), rec(8), rec(15)])
    assert output["late_records"] == 2
    assert counts(output) == {at(0): 1, at(10): 1, at(30): 1}


def test_an_early_straggler_does_not_reopen_closed_windows() -> None:
    # After 00:44 every window before 00:30 is closed, whatever arrives in between.
    output = windowed([rec(2), rec(44), rec(3), rec(21), rec(11)])
    assert output["late_records"] == 3
    assert counts(output) == {at(0): 1, at(40): 1}


def test_straggler_within_the_allowed_lateness_lands_in_its_window() -> None:
    output = windowed([rec(1), rec(13), rec(9), rec(14)])
    assert output["late_records"] == 0
    assert counts(output) == {at(0): 2, at(10): 2}


def test_a_lagging_producers_rows_still_land_in_their_windows() -> None:
    fast = [rec(1), rec(12), rec(45), rec(47)]
    slow = [rec(2), rec(3), rec(4), rec(5)]
    output = windowed(fast, slow)
    assert output["late_records"] == 0
    assert counts(output) == {at(0): 5, at(10): 1, at(40): 2}


def test_slow_partition_past_its_own_lateness_is_counted_late() -> None:
    fast = [rec(1), rec(30), rec(31), rec(32)]
    slow = [rec(20), rec(26), rec(4), rec(27)]
    output = windowed(fast, slow)
    # Both partitions passed 00:20 before 00:04 arrived: window 00:00 had closed.
    assert output["late_records"] == 1
    assert counts(output) == {at(0): 1, at(20): 3, at(30): 3}


def test_reported_watermark_never_runs_ahead_of_a_lagging_producer() -> None:
    output = windowed([rec(1), rec(50)], [rec(2), rec(20)])
    assert output["watermark"] == at(15)
    assert T0.isoformat() in counts(output)
