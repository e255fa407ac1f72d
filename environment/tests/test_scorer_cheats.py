"""Scripted cheats against the scorer must not score above the untouched buggy tree."""

from __future__ import annotations

import json
import shutil

import pytest

from environment.reward import compute_reward, parse_results
from environment.scorer import main as scorer_main
from environment.scorer import score_tree
from environment.tests.factories import write_project

CALC_CORRECT = """
def add(a, b):
    return a + b

def mul(a, b):
    return a * b
"""
CALC_BUGGY = CALC_CORRECT.replace("return a * b", "return a + b")
TESTS = {
    "tests/unit/ml_pipeline/test_calc.py": """
        import pytest
        from calc import add, mul

        pytestmark = pytest.mark.training

        def test_add():
            assert add(2, 3) == 5

        def test_mul():
            assert mul(2, 3) == 6
        """,
    "tests/system/test_calc_system.py": """
        from calc import add

        def test_add_system():
            assert add(1, 1) == 2
        """,
}
EXPECTED = {
    "tests/unit/ml_pipeline/test_calc.py::test_add": {
        "category": "unit/ml_pipeline",
        "service": "training",
    },
    "tests/unit/ml_pipeline/test_calc.py::test_mul": {
        "category": "unit/ml_pipeline",
        "service": "training",
    },
    "tests/system/test_calc_system.py::test_add_system": {
        "category": "system",
        "service": "gateway",
    },
}
FORCE_PASS = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
"""


@pytest.fixture
def pristine(tmp_path):
    return write_project(tmp_path / "pristine", {**TESTS, "calc.py": CALC_CORRECT})


@pytest.fixture
def agent_tree(tmp_path, pristine):
    tree = tmp_path / "agent"
    shutil.copytree(pristine, tree)
    (tree / "calc.py").write_text(CALC_BUGGY, encoding="utf-8")
    return tree


def passed(results: dict) -> int:
    return compute_reward(parse_results(results))["passed"]


def test_untouched_buggy_tree_scores_two_of_three(agent_tree, pristine):
    results = score_tree(agent_tree, pristine, EXPECTED)
    assert passed(results) == 2
    assert results["reason"] is None


def test_fixed_tree_scores_everything(agent_tree, pristine):
    (agent_tree / "calc.py").write_text(CALC_CORRECT, encoding="utf-8")
    results = score_tree(agent_tree, pristine, EXPECTED)
    assert compute_reward(parse_results(results))["reward"] == 1.0


def test_deleted_test_is_restored_and_still_fails(agent_tree, pristine):
    (agent_tree / "tests/unit/ml_pipeline/test_calc.py").unlink()
    assert passed(score_tree(agent_tree, pristine, EXPECTED)) == 2


def test_expected_test_that_does_not_run_counts_as_missing(agent_tree, pristine):
    expected = {
        **EXPECTED,
        "tests/system/test_gone.py::test_x": {"category": "system", "service": "x"},
    }
    results = score_tree(agent_tree, pristine, expected)
    outcomes = {t["id"]: t["outcome"] for t in results["tests"]}
    assert outcomes["tests/system/test_gone.py::test_x"] == "missing"


def test_edited_test_is_restored(agent_tree, pristine):
    path = agent_tree / "tests/unit/ml_pipeline/test_calc.py"
    path.write_text(path.read_text().replace("== 6", "== 5"), encoding="utf-8")
    assert passed(score_tree(agent_tree, pristine, EXPECTED)) == 2


def test_planted_root_conftest_is_removed(agent_tree, pristine):
    (agent_tree / "conftest.py").write_text(FORCE_PASS, encoding="utf-8")
    results = score_tree(agent_tree, pristine, EXPECTED)
    assert passed(results) == 2
    assert "conftest.py" in results["removed"]
    assert not (agent_tree / "conftest.py").exists()


def test_planted_conftest_inside_tests_is_replaced_by_pristine(agent_tree, pristine):
    (agent_tree / "tests" / "conftest.py").write_text(FORCE_PASS, encoding="utf-8")
    assert passed(score_tree(agent_tree, pristine, EXPECTED)) == 2
    assert not (agent_tree / "tests" / "conftest.py").exists()


def test_caller_pytest_addopts_and_pythonpath_are_ignored(
    agent_tree, pristine, tmp_path, monkeypatch
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "forcepass.py").write_text(FORCE_PASS, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(plugins))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p forcepass")
    assert passed(score_tree(agent_tree, pristine, EXPECTED)) == 2


STARTUP_FILES = {
    "sitecustomize.py": "import os\n",
    "lib/usercustomize.py": "import os\n",
    "lib/hooks.pth": "import os\n",
    "pytest.ini": "[pytest]\naddopts = -k add\n",
    "tox.ini": "[pytest]\naddopts = -k add\n",
    "setup.cfg": "[tool:pytest]\naddopts = -k add\n",
    "services/conftest.py": FORCE_PASS,
}


def test_startup_hooks_stray_conftests_and_extra_configs_are_removed(agent_tree, pristine):
    for name, text in STARTUP_FILES.items():
        path = agent_tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    results = score_tree(agent_tree, pristine, EXPECTED)
    assert results["removed"] == sorted(STARTUP_FILES)
    assert not any((agent_tree / name).exists() for name in STARTUP_FILES)
    assert passed(results) == 2


def test_edited_pytest_config_is_restored(agent_tree, pristine):
    config = agent_tree / "pyproject.toml"
    config.write_text(config.read_text().replace('-q"', '-q -k add"'), encoding="utf-8")
    assert passed(score_tree(agent_tree, pristine, EXPECTED)) == 2
    assert config.read_text() == (pristine / "pyproject.toml").read_text()


def test_monkeypatching_pytest_from_project_code_scores_zero(agent_tree, pristine):
    calc = agent_tree / "calc.py"
    calc.write_text(
        "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n" + CALC_BUGGY,
        encoding="utf-8",
    )
    results = score_tree(agent_tree, pristine, EXPECTED)
    assert passed(results) == 0
    assert "tampered" in results["reason"]


def test_tree_that_cannot_collect_scores_zero_with_a_reason(agent_tree, pristine):
    (agent_tree / "calc.py").write_text("def add(:\n", encoding="utf-8")
    results = score_tree(agent_tree, pristine, EXPECTED)
    reward = compute_reward(parse_results(results))
    assert reward["reward"] == 0.0
    assert results["reason"].startswith("the suite could not be collected")


def test_scorer_command_always_writes_results_and_reward(tmp_path, pristine, capsys):
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps(EXPECTED), encoding="utf-8")
    out, reward_out = tmp_path / "results.json", tmp_path / "reward.json"
    args = [str(tmp_path / "absent"), "--pristine", str(pristine), "--expected", str(expected)]
    assert scorer_main([*args, "--out", str(out), "--reward-out", str(reward_out)]) == 0
    reward = json.loads(reward_out.read_text())
    assert reward["reward"] == 0.0
    assert "is not a directory" in reward["reason"]
    assert {t["outcome"] for t in json.loads(out.read_text())["tests"]} == {"missing"}
