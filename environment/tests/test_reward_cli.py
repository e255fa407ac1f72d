"""The reward command line: one JSON object out, exit 2 with one line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from environment.reward import main
from environment.tests.factories import as_document, batch, result

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, data, name="results.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_prints_one_json_object_with_every_component(tmp_path, capsys):
    path = write(tmp_path, as_document(batch(9, 1)))
    assert main([str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    reward = json.loads(out[0])
    for key in (
        "reward",
        "base",
        "pass_rate",
        "weighted_pass_rate",
        "service_bonus",
        "ml_bonus",
        "regression_penalty",
        "passing_services",
        "dense",
        "categories",
    ):
        assert key in reward
    assert reward["base"] == 0.78


def test_previous_results_apply_the_regression_penalty(tmp_path, capsys):
    now = write(tmp_path, as_document([result("a", "failed"), result("b")]))
    before = write(tmp_path, as_document([result("a"), result("b")]), "prev.json")
    assert main([str(now), "--previous", str(before)]) == 0
    assert json.loads(capsys.readouterr().out)["regression_penalty"] == 0.15


def test_extra_top_level_keys_are_allowed(tmp_path, capsys):
    path = write(tmp_path, {**as_document([result("a")]), "reason": None, "removed": []})
    assert main([str(path)]) == 0


BAD_INPUTS = {
    "malformed json": "{not json",
    "no tests list": {"results": []},
    "unknown category": {
        "tests": [{"id": "a", "category": "unit/other", "service": "s", "outcome": "passed"}]
    },
    "unknown outcome": {
        "tests": [{"id": "a", "category": "system", "service": "s", "outcome": "great"}]
    },
    "missing key": {"tests": [{"id": "a", "category": "system", "outcome": "passed"}]},
    "duplicate ids": as_document([result("a"), result("a")]),
    "entry not an object": {"tests": ["a"]},
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_on_stderr(tmp_path, case):
    path = write(tmp_path, BAD_INPUTS[case])
    run = subprocess.run(
        [sys.executable, "-m", "environment.reward", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in run.stderr


def test_missing_file_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "absent.json")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")
