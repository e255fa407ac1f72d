"""Held-out: watermarks across three partitions and hourly windows."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import VERSION, at, make_pipeline_env, rec, step

pytestmark = pytest.mark.pipeline


def tumbled(window: int, lateness: int, *partitions: list) -> dict:
    env = make_pipeline_env()
    env.datasets.add("taps", VERSION, *partitions)
    tumble = step("agg", "transform", window_seconds=window, allowed_lateness_seconds=lateness)
    env.define("taps-agg", [tumble])
    run = env.run("taps-agg", dataset="taps")
    assert run["status"] == "succeeded", run["error"]
    return env.steps(run)["agg"]["output"]


def test_third_partition_still_catching_up_keeps_its_hour_open() -> None:
    quick = [rec(5), rec(70), rec(130)]
    steady = [rec(10), rec(65), rec(125)]
    lagging = [rec(-50), rec(-20), rec(30)]
    output = tumbled(3600, 600, quick, steady, lagging)
    assert output["late_records"] == 0
    assert {w["start"]: w["count"] for w in output["windows"]} == {
        at(-90): 1,
        at(-30): 3,
        at(30): 3,
        at(90): 2,
    }


def test_half_hour_windows_of_two_producers_count_every_row() -> None:
    output = tumbled(1800, 0, [rec(100), rec(130)], [rec(10), rec(40), rec(70)])
    assert output["late_records"] == 0
    assert [w["count"] for w in output["windows"]] == [1, 1, 1, 1, 1]
    assert output["watermark"] == at(70)
