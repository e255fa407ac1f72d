"""The report plugin: outcome mapping, signed lines, tamper detection."""

from __future__ import annotations

import json

import pytest

from environment.report import read_report
from environment.report_plugin import final_outcome
from environment.runner import run_suite
from environment.tests.factories import write_project

OUTCOMES_MODULE = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("setup fails")

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown fails")

def test_pass():
    assert True

def test_fail():
    assert 1 == 2

def test_setup_error(broken):
    pass

def test_teardown_error(bad_teardown):
    pass

def test_skip():
    pytest.skip("not here")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="known")
def test_xpass():
    assert True

@pytest.mark.xfail(reason="known", strict=True)
def test_xpass_strict():
    assert True
"""
MODULE = "tests/unit/ml_pipeline/test_outcomes.py"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = write_project(tmp_path_factory.mktemp("proj"), {MODULE: OUTCOMES_MODULE})
    report = run_suite(root)
    assert report.exitstatus is not None and not report.tampered
    return {nodeid.split("::")[1]: outcome for nodeid, outcome in report.outcomes.items()}


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ("test_pass", "passed"),
        ("test_fail", "failed"),
        ("test_setup_error", "error"),
        ("test_teardown_error", "error"),
        ("test_skip", "skipped"),
        ("test_xfail", "xfailed"),
        ("test_xpass", "passed"),
        ("test_xpass_strict", "failed"),
    ],
)
def test_plugin_maps_each_pytest_outcome(outcomes, test, expected):
    assert outcomes[test] == expected


def test_final_outcome_prefers_setup_problems_and_teardown_errors():
    assert final_outcome({"setup": "skipped"}) == "skipped"
    assert final_outcome({"setup": "passed", "call": "passed", "teardown": "error"}) == "error"
    assert final_outcome({"setup": "passed", "call": "failed", "teardown": "error"}) == "failed"
    assert final_outcome({}) == "error"


def test_forged_report_lines_are_flagged(tmp_path):
    path = tmp_path / "report.jsonl"
    body = json.dumps({"kind": "test", "id": "t::a", "outcome": "passed"})
    path.write_text(json.dumps({"body": body, "mac": "00"}) + "\n", encoding="utf-8")
    report = read_report(path, b"secret")
    assert report.outcomes == {}
    assert report.tampered == ["report line 1 is not signed by the scorer"]


def test_missing_report_is_a_problem(tmp_path):
    report = read_report(tmp_path / "absent.jsonl", b"k")
    assert "no report was written" in report.problems


def test_replacing_pytest_internals_is_detected(tmp_path):
    cheat = """
    import _pytest.python

    _pytest.python.Function.runtest = lambda self: None
    """
    test = """
    import cheat

    def test_fails():
        assert cheat and False
    """
    root = write_project(tmp_path, {"cheat.py": cheat, "tests/system/test_c.py": test})
    report = run_suite(root)
    assert "Function.runtest" in report.tampered


def test_plugin_registered_outside_tests_is_detected(tmp_path):
    cheat = """
    import gc
    import pytest
    from _pytest.config import Config

    class Forge:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            outcome = yield
            outcome.get_result().outcome = "passed"

    config = next(o for o in gc.get_objects() if isinstance(o, Config))
    config.pluginmanager.register(Forge(), "forge")
    """
    test = """
    import cheat

    def test_fails():
        assert cheat and False
    """
    root = write_project(tmp_path, {"cheat.py": cheat, "tests/system/test_c.py": test})
    report = run_suite(root)
    assert any(name.startswith("pytest_runtest_makereport:cheat.py") for name in report.tampered)


def signed(key: bytes, record: dict) -> str:
    import hashlib
    import hmac

    body = json.dumps(record, sort_keys=True)
    return json.dumps(
        {"body": body, "mac": hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}
    )


def test_a_second_outcome_or_a_line_after_the_finish_is_flagged(tmp_path):
    path = tmp_path / "report.jsonl"
    records = [
        {"kind": "test", "id": "t::a", "outcome": "passed"},
        {"kind": "test", "id": "t::b", "outcome": "failed"},
        {"kind": "test", "id": "t::b", "outcome": "passed"},
        {"kind": "finish", "exitstatus": 1},
        {"kind": "test", "id": "t::c", "outcome": "passed"},
    ]
    path.write_text("\n".join(signed(b"k", r) for r in records) + "\n", encoding="utf-8")
    report = read_report(path, b"k")
    assert report.outcomes == {"t::a": "passed", "t::b": "failed"}
    assert report.tampered == [
        "test t::b was reported twice",
        "report line 5 comes after the run finished",
    ]
