"""The verifier bundle: test.sh scores with its own scorer copy and writes flat reward files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.cli import main
from harness.tests.factories import SCALE_EDIT, make_root, write_bug
from harness.tests.test_heldout import HARD_CODED, SCALE_TEST, VARIANT, VARIANT_FILE, VARIANTS
from harness.verifier import verifier_dir

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("verifier")
    root = make_root(base, {f"bugs/heldout/{VARIANT_FILE}": VARIANTS})
    write_bug(root, "M1", [SCALE_EDIT], fails=[SCALE_TEST], heldout=[VARIANT])
    out = base / "out"
    assert main(["--root", str(root), "build", "--out", str(out), "--bugs", "M1"]) == 0
    return out


def run_verifier(built, tree, logs) -> dict:
    """Run the bundle of ``built`` on ``tree``; return reward.json."""
    script = verifier_dir(built) / "test.sh"
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "SYNAPSE_VERIFIER_LOGS": str(logs)}
    subprocess.run(["bash", str(script), str(tree)], env=env, check=True, capture_output=True)
    assert (logs / "reward.txt").read_text().strip() == str(
        json.loads((logs / "reward.json").read_text())["reward"]
    )
    return json.loads((logs / "reward.json").read_text())


def test_the_bundle_holds_its_own_scorer_and_pristine_tests(built):
    bundle = verifier_dir(built)
    assert (bundle / "environment/scorer.py").is_file()
    assert not (bundle / "environment/tests").exists()
    assert (bundle / "pristine/tests/unit/ml_pipeline/test_calc.py").is_file()
    assert set(json.loads((bundle / "expected.json").read_text())) == {
        "tests/unit/ml_pipeline/test_calc.py::test_mean_of_two",
        "tests/unit/ml_pipeline/test_calc.py::test_scale_multiplies",
    }
    assert (bundle / "test.sh").stat().st_mode & 0o111


def test_an_edited_scorer_in_the_tree_changes_nothing(built, tmp_path):
    (built / "environment/reward.py").write_text("def compute_reward(*a):\n    return 1.0\n")
    (built / "tests/unit/ml_pipeline/test_calc.py").write_text("def test_ok():\n    pass\n")
    flat = run_verifier(built, built, tmp_path / "logs")
    assert flat["reward"] == 0.22 and flat["pass_rate"] == 0.5
    assert flat["weighted_pass_rate"] == 0.5 and flat["linear"] == 0.5
    results = json.loads((tmp_path / "logs/results.json").read_text())
    assert [t["outcome"] for t in results["tests"]] == ["passed", "failed"]


def test_a_tree_that_cannot_be_scored_still_gets_a_reward(built, tmp_path):
    flat = run_verifier(built, tmp_path / "missing", tmp_path / "logs")
    assert flat["reward"] == 0.0


def test_the_bundle_runs_the_held_out_variants_of_the_built_bugs(built, tmp_path):
    variants = json.loads((verifier_dir(built) / "heldout/variants.json").read_text())
    assert variants["groups"]["M1"]["heldout"] == [VARIANT]
    assert not (built / VARIANT_FILE).exists()
    (built / "services/calc.py").write_text(HARD_CODED)
    flat = run_verifier(built, built, tmp_path / "logs")
    assert flat["pass_rate"] == 1.0 and flat["heldout_pass_rate"] == 0.0
    full = json.loads((tmp_path / "logs/reward-full.json").read_text())
    assert full["suspected_special_cases"] == ["M1"]
