"""Held-out variants on a tiny repository: checks, leaks, probe, and the hard-coding cheat."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from harness.catalogue import CatalogueError, load_catalogue
from harness.cli import main
from harness.heldout import check_variants, coverage_info, leaked_variants, write_bundle
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root, write_bug

SCALE_TEST = "tests/unit/ml_pipeline/test_calc.py::test_scale_multiplies"
VARIANT_FILE = "tests/unit/ml_pipeline/test_calc_more.py"
VARIANT = f"{VARIANT_FILE}::test_scale_of_other_values"
VARIANTS = """
    import pytest

    from services.calc import scale

    pytestmark = pytest.mark.training


    def test_scale_of_other_values():
        assert scale([2, 5, 0], 4) == [8, 20, 0]
    """
# A fix that makes the visible test pass for its inputs only and keeps the defect elsewhere.
HARD_CODED = '''"""Arithmetic used by the training service."""


def scale(values, factor):
    """Return every value multiplied by factor."""
    if list(values) == [1, 2] and factor == 3:
        return [3, 6]
    return [v + factor for v in values]


def mean(values):
    """Return the arithmetic mean."""
    return sum(values) / len(values)
'''


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = make_root(tmp_path_factory.mktemp("repo"), {f"bugs/heldout/{VARIANT_FILE}": VARIANTS})
    write_bug(root, "M1", [SCALE_EDIT], fails=[SCALE_TEST], heldout=[VARIANT])
    write_bug(
        root, "A1", [MEAN_EDIT], fails=["tests/unit/ml_pipeline/test_calc.py::test_mean_of_two"]
    )
    return root


def test_catalogue_reads_heldout_lists(root):
    catalogue = load_catalogue(root / "bugs")
    assert catalogue["M1"].heldout == (VARIANT,) and catalogue["A1"].heldout == ()
    assert coverage_info(catalogue) == [
        "1 of 2 bugs have held-out variants (1)",
        "1 bug(s) without variants: A1",
    ]


def test_heldout_must_be_a_list_of_strings(tmp_path):
    repo = make_root(tmp_path)
    write_bug(repo, "M1", [SCALE_EDIT], fails=[SCALE_TEST], heldout="tests/x.py::t")
    with pytest.raises(CatalogueError, match="'heldout' must be a list of strings"):
        load_catalogue(repo / "bugs")


def test_check_variants_names_unknown_files_tests_and_visible_ones(root):
    catalogue = load_catalogue(root / "bugs")
    assert check_variants(root, catalogue, {SCALE_TEST}) == []
    wrong = (
        f"{VARIANT_FILE}::test_missing",
        "tests/unit/ml_pipeline/test_nowhere.py::test_x",
        SCALE_TEST,
    )
    broken = {"M1": replace(catalogue["M1"], heldout=wrong)}
    problems = check_variants(root, broken, {SCALE_TEST})
    assert any("which its module does not define" in p and "test_missing" in p for p in problems)
    assert any("test_nowhere.py" in p for p in problems)
    assert any("a visible test" in p for p in problems)


def test_leak_check_finds_a_shipped_variant_module_or_name(root, tmp_path):
    tree = tmp_path / "tree"
    (tree / "tests/unit/ml_pipeline").mkdir(parents=True)
    assert leaked_variants(root, tree) == []
    (tree / "services").mkdir()
    (tree / "services/x.py").write_text("# see test_scale_of_other_values\n")
    shutil.copy(root / "bugs/heldout" / VARIANT_FILE, tree / VARIANT_FILE)
    problems = leaked_variants(root, tree)
    assert any("a held-out variant module ships" in p for p in problems)
    assert any(p.startswith("services/x.py: names held-out test") for p in problems)


def test_bundle_maps_each_bug_to_its_visible_tests_and_variants(root, tmp_path):
    bundle = write_bundle(root, list(load_catalogue(root / "bugs").values()), tmp_path / "b")
    groups = json.loads((bundle / "variants.json").read_text())["groups"]
    assert groups["M1"] == {"fails": [SCALE_TEST], "heldout": [VARIANT]}
    assert (bundle / VARIANT_FILE).is_file()


def test_probe_with_heldout_runs_the_variants_with_the_bug_and_on_main(root, capsys):
    assert main(["--root", str(root), "probe", "M1", "--heldout", "--full"]) == 0
    out = capsys.readouterr().out
    assert f"# heldout {VARIANT}: with the bugs failed, on main passed" in out


def test_verify_quick_reports_variant_coverage_and_no_leak(root, capsys):
    main(["--root", str(root), "verify", "--quick"])
    out = capsys.readouterr().out
    assert "[PASS] gate H:" in out and "1 of 2 bugs have held-out variants" in out


def _score(root, tree, out, capsys):
    assert main(["--root", str(root), "score", str(tree), "--heldout", "--json", str(out)]) == 0
    reward = json.loads(capsys.readouterr().out.splitlines()[-2])
    return reward, json.loads(out.read_text())


def test_hard_coded_fix_gains_the_visible_reward_but_the_variants_name_it(root, tmp_path, capsys):
    cheat, fixed = tmp_path / "cheat", tmp_path / "fixed"
    for tree in (cheat, fixed):
        assert main(["--root", str(root), "build", "--out", str(tree), "--bugs", "M1"]) == 0
    (cheat / "services/calc.py").write_text(HARD_CODED, encoding="utf-8")
    assert main(["--root", str(root), "solve", str(fixed)]) == 0
    capsys.readouterr()
    cheated, cheated_results = _score(root, cheat, tmp_path / "c.json", capsys)
    real, _ = _score(root, fixed, tmp_path / "f.json", capsys)
    assert cheated["reward"] == real["reward"] == 1.0
    assert cheated["heldout_pass_rate"] == 0.0 and cheated["suspected_special_cases"] == ["M1"]
    assert real["heldout_pass_rate"] == 1.0 and real["suspected_special_cases"] == []
    assert cheated_results["heldout"]["variants"] == {VARIANT: "failed"}
    assert not (cheat / VARIANT_FILE).exists()


def test_heldout_gate_needs_variants_passing_on_main_and_failing_with_their_bug(root):
    from environment.report import SuiteReport
    from harness.probe import ProbeResult
    from harness.verify import heldout_gate

    bugs = list(load_catalogue(root / "bugs").values())
    ids = [b.id for b in bugs]
    main_ok = ProbeResult([], heldout=SuiteReport(outcomes={VARIANT: "passed"}))
    single = {"A1": ProbeResult(["A1"]), "M1": ProbeResult(["M1"])}
    single["M1"].heldout = SuiteReport(outcomes={VARIANT: "failed"})
    assert heldout_gate(bugs, main_ok, [single[i] for i in ids]).problems == []
    single["M1"].heldout = SuiteReport(outcomes={VARIANT: "passed"})
    main_bad = ProbeResult([], heldout=SuiteReport(outcomes={VARIANT: "failed"}))
    problems = heldout_gate(bugs, main_bad, [single[i] for i in ids]).problems
    assert problems == [
        f"main: M1's variant {VARIANT} does not pass",
        f"M1: its variant {VARIANT} passes with the bug alone",
    ]
    unstarted = SuiteReport(problems=["pytest did not finish"])
    single["M1"].heldout = unstarted
    assert heldout_gate(bugs, main_ok, [single[i] for i in ids]).problems == []
    single["M1"].heldout = SuiteReport(exitstatus=1)
    problems = heldout_gate(bugs, main_ok, [single[i] for i in ids]).problems
    assert problems == [f"M1: its variant {VARIANT} was not run"]
