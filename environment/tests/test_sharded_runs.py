"""Whole-suite runs split over several pytest processes: same outcomes, same protections."""

from __future__ import annotations

from environment.report import SuiteReport
from environment.runner import RunLimits, merge, run_suite, shard, suite_modules
from environment.tests.factories import write_project

PASSING = """
def test_one():
    assert sum([1, 2]) == 3
"""
FAILING = """
def test_two():
    assert sorted([2, 1]) == [2, 1]
"""
MODULES = {
    "tests/unit/ml_pipeline/test_a.py": PASSING,
    "tests/unit/ml_pipeline/test_b.py": FAILING,
    "tests/system/test_c.py": PASSING.replace("test_one", "test_three"),
}


def test_modules_are_dealt_alternately_and_every_one_exactly_once():
    files = [f"tests/unit/test_{n}.py" for n in "abcde"]
    shards = shard(files, 2)
    assert shards == [files[0::2], files[1::2]]
    assert shard(files, 2) == shards
    assert sorted(shards[0] + shards[1]) == files


def test_more_workers_than_modules_leaves_no_empty_shard():
    assert shard(["tests/test_a.py"], 2) == [["tests/test_a.py"]]


def test_suite_modules_are_the_test_modules_under_tests(tmp_path):
    root = write_project(tmp_path, {**MODULES, "tests/utils/helpers.py": "X = 1\n"})
    assert suite_modules(root) == sorted(MODULES)


def test_two_workers_report_what_one_process_reports(tmp_path):
    root = write_project(tmp_path, MODULES)
    single = run_suite(root)
    split = run_suite(root, workers=2)
    assert split.outcomes == single.outcomes
    assert set(split.collected) == set(single.collected) == set(single.outcomes)
    assert split.outcomes["tests/unit/ml_pipeline/test_b.py::test_two"] == "failed"
    assert split.exitstatus == single.exitstatus == 1
    assert split.tampered == [] and split.problems == []


def test_tampering_in_one_shard_reaches_the_merged_report(tmp_path):
    cheat = """
    import _pytest.python

    _pytest.python.Function.runtest = lambda self: None
    """
    cheating = """
    import cheat

    def test_fails():
        assert cheat and False
    """
    root = write_project(
        tmp_path, {**MODULES, "cheat.py": cheat, "tests/system/test_d.py": cheating}
    )
    report = run_suite(root, workers=2)
    assert "Function.runtest" in report.tampered


def test_merge_flags_a_test_reported_by_two_shards_and_keeps_the_worst_exit_status():
    first = SuiteReport(outcomes={"t::a": "passed"}, exitstatus=0)
    second = SuiteReport(outcomes={"t::a": "failed", "t::b": "passed"}, exitstatus=1)
    merged = merge([first, second])
    assert merged.tampered == ["test t::a was reported twice"]
    assert merged.outcomes == {"t::a": "passed", "t::b": "passed"}
    assert merged.exitstatus == 1


def test_merge_has_no_exit_status_when_a_shard_did_not_finish():
    done = SuiteReport(outcomes={"t::a": "passed"}, exitstatus=0)
    unfinished = SuiteReport(problems=["pytest did not finish"])
    merged = merge([done, unfinished])
    assert merged.exitstatus is None
    assert merged.problems == ["pytest did not finish"]


def test_a_run_over_the_time_bound_kills_every_shard(tmp_path):
    hang = """
    import threading

    def test_hangs():
        threading.Event().wait()
    """
    root = write_project(tmp_path, {**MODULES, "tests/system/test_h.py": hang})
    report = run_suite(root, limits=RunLimits(per_test=60, total=8), workers=2)
    assert any("total time bound" in p for p in report.problems)
    assert "tests/system/test_c.py::test_three" in report.outcomes


def test_logs_of_every_shard_are_kept(tmp_path):
    root = write_project(tmp_path / "p", MODULES)
    log = tmp_path / "run.log"
    run_suite(root, ["-rfE"], log_path=log, workers=2)
    text = log.read_text(encoding="utf-8")
    assert text.count("passed") >= 2 and "test_two" in text
