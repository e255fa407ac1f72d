"""Fix orders, gate-8 figures and the curve command on a tiny fake repository."""

from __future__ import annotations

import csv

import pytest

from harness.catalogue import Bug, Edit, load_catalogue
from harness.cli import main
from harness.shape import (
    ShapeFigures,
    figures_from_fails,
    fix_order,
    free_bonuses,
    reward_from_fails,
    step_trees,
)
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root, write_bug

SCALE_TEST = "tests/unit/ml_pipeline/test_calc.py::test_scale_multiplies"
MEAN_TEST = "tests/unit/ml_pipeline/test_calc.py::test_mean_of_two"


def bug(bug_id: str, depends_on: tuple[str, ...] = (), services: tuple[str, ...] = ("a",)) -> Bug:
    return Bug(bug_id, "t", bug_id[0], services, depends_on, (), (Edit("f", "x", "y"),))


def catalogue_of(*bugs: Bug) -> dict[str, Bug]:
    return {b.id: b for b in bugs}


def ids(bugs: list[Bug]) -> list[str]:
    return [b.id for b in bugs]


CATALOGUE = catalogue_of(
    bug("L1"),
    bug("L4"),
    bug("M1", ("A1",)),
    bug("M2"),
    bug("A1", ("L4",)),
    bug("B1", ("M1", "A1")),
)


def test_dependency_order_fixes_dependencies_first_and_breaks_ties_by_catalogue_order():
    assert ids(fix_order(CATALOGUE)) == ["L1", "L4", "M2", "A1", "M1", "B1"]


def test_random_order_is_seeded_and_still_respects_dependencies():
    first = ids(fix_order(CATALOGUE, "random", 7))
    assert first == ids(fix_order(CATALOGUE, "random", 7))
    orders = {tuple(ids(fix_order(CATALOGUE, "random", seed))) for seed in range(20)}
    assert len(orders) > 1
    for order in orders:
        for b in CATALOGUE.values():
            assert all(order.index(d) < order.index(b.id) for d in b.depends_on)


def test_a_dependency_cycle_has_no_fix_order():
    with pytest.raises(ValueError, match="cycle"):
        fix_order(catalogue_of(bug("M1", ("M2",)), bug("M2", ("M1",))))


def test_step_trees_remove_one_fixed_bug_per_step_and_keep_catalogue_order():
    steps = step_trees(CATALOGUE, fix_order(CATALOGUE))
    assert len(steps) == len(CATALOGUE) + 1
    assert ids(steps[0]) == list(CATALOGUE)
    assert ids(steps[3]) == ["M1", "A1", "B1"]
    assert steps[-1] == []


EXPECTED = {
    "tests/unit/ml_pipeline/test_a.py::t1": {"category": "unit/ml_pipeline", "service": "a"},
    "tests/unit/ml_pipeline/test_a.py::t2": {"category": "unit/ml_pipeline", "service": "a"},
    "tests/system/test_b.py::t3": {"category": "system", "service": "b"},
    "tests/system/test_c.py::t4": {"category": "system", "service": "c"},
}


def test_reward_from_fails_weights_categories_like_the_scorer():
    reward = reward_from_fails(EXPECTED, ["tests/system/test_b.py::t3"])
    assert reward["weighted_pass_rate"] == pytest.approx(5 / 8)
    assert reward["passing_services"] == ["a", "c"]


def test_free_bonus_when_a_services_own_bugs_break_none_of_its_tests():
    catalogue = catalogue_of(bug("M1", services=("a",)), bug("M2", services=("b",)))
    fails = {"M1": {"tests/system/test_b.py::t3"}, "M2": {"tests/system/test_b.py::t3"}}
    verdicts = free_bonuses(catalogue, EXPECTED, fails)
    assert verdicts == {
        "a": "its own bugs break none of its tests",
        "b": "",
        "c": "no bug of its own",
    }


def test_figures_from_fails_estimate_each_tree_by_the_union_of_its_bugs():
    catalogue = catalogue_of(bug("L1", services=("a", "b", "c")), bug("M1"), bug("M2"))
    fails = {
        "L1": set(EXPECTED),
        "M1": {"tests/unit/ml_pipeline/test_a.py::t1"},
        "M2": {"tests/system/test_b.py::t3", "tests/system/test_c.py::t4"},
    }
    figures = figures_from_fails(catalogue, EXPECTED, fails)
    assert figures.all_but_l1 == pytest.approx(1 / 8)
    assert figures.outside_l == pytest.approx(1 / 8)
    # Step 2: 2 of 8 weighted (base 0.12) + service a's bonus (0.02) + the ML bonus (0.10).
    assert figures.rewards == [0.0, 0.05, pytest.approx(0.24), 1.0]
    assert figures.distinct == 4
    assert "fewer than 6 distinct rewards along the curve" in figures.problems()


def test_figures_that_meet_every_threshold_have_no_problems():
    figures = ShapeFigures(0.3, 0.6, [0.0, 0.05, 0.12, 0.22, 0.38, 0.55, 1.0], {"a": ""})
    assert figures.problems() == []
    figures.free["b"] = "no bug of its own"
    assert figures.problems() == [
        "b: isolation bonus without fixing a bug of its own (no bug of its own)"
    ]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = make_root(tmp_path_factory.mktemp("repo"))
    write_bug(root, "M1", [SCALE_EDIT], fails=[SCALE_TEST])
    write_bug(root, "A1", [MEAN_EDIT], depends_on=["M1"], fails=[MEAN_TEST])
    return root


def test_curve_scores_every_step_and_writes_csv_and_plot(root, tmp_path, capsys):
    out = tmp_path / "curve"
    assert main(["--root", str(root), "curve", "--out", str(out), "--jobs", "2"]) == 0
    with open(out / "curve.csv", encoding="utf-8") as rows:
        table = list(csv.DictReader(rows))
    assert [(r["step"], r["bug"], r["passed"], r["reward"]) for r in table] == [
        ("0", "", "0", "0.0"),
        ("1", "M1", "1", "0.22"),
        ("2", "A1", "2", "1.0"),
    ]
    assert float(table[1]["weighted_pass_rate"]) == pytest.approx(0.5)
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "fix order (dependency): M1 A1" in printed
    finished = sorted(
        line.split(" (")[0] for line in printed.splitlines() if line.startswith("run ")
    )
    assert finished == ["run 1/3", "run 2/3", "run 3/3"]
    assert "(main): 2 passed" in printed
    assert "every non-L bug planted: 0.0000" in printed
    assert "distinct rewards along the dependency-order curve: 3" in printed
    assert "gateway (no bug of its own)" not in printed  # gateway has no tests in this repo


def test_curve_in_random_order_names_its_seed(root, tmp_path, capsys):
    out = tmp_path / "random"
    args = ["--root", str(root), "curve", "--order", "random", "--seed", "3", "--out", str(out)]
    assert main(args) == 0
    assert "fix order (random): M1 A1" in capsys.readouterr().out
    assert (out / "curve.csv").is_file()


def test_verify_quick_reports_gate_8_as_information(root, capsys):
    main(["--root", str(root), "verify", "--quick"])
    out = capsys.readouterr().out
    assert "[PASS] gate 8: reward shape, estimated from recorded fails sets" in out
    assert "info: would fail: fewer than 6 distinct rewards along the curve" in out


def test_the_fixture_catalogue_loads_in_dependency_order(root):
    assert ids(fix_order(load_catalogue(root / "bugs"))) == ["M1", "A1"]


def test_full_verify_judges_gate_8_on_the_measured_curve_unless_told_to_report_it(root):
    from harness.shape_gates import shape_gate

    catalogue = load_catalogue(root / "bugs")
    enforced = shape_gate(root, catalogue, 2, True, enforce=True)
    assert enforced.problems == ["fewer than 6 distinct rewards along the curve"]
    reported = shape_gate(root, catalogue, 2, True, enforce=False)
    assert reported.passed
    assert "not enforced (--gate8 info): fewer than 6 distinct rewards along the curve" in (
        reported.info
    )


def test_runs_that_write_inside_their_tree_fail_the_hermeticity_check():
    from environment.report import SuiteReport
    from harness.probe import ProbeResult
    from harness.verify import hermeticity_problems

    clean = ProbeResult([], SuiteReport())
    leaky = ProbeResult(["M1"], SuiteReport(tree_changes=["created: var/models.sqlite3"]))
    assert hermeticity_problems([clean, leaky]) == [
        "M1: the run wrote inside the tree: created: var/models.sqlite3"
    ]


def test_probe_names_the_files_a_bugs_run_writes_inside_its_tree(tmp_path, capsys):
    repo = make_root(tmp_path)
    leak = (
        "services/calc.py",
        "    return [v * factor for v in values]\n",
        '    open("scaled.log", "w").close()\n    return [v * factor for v in values]\n',
    )
    write_bug(repo, "M4", [leak])
    assert main(["--root", str(repo), "probe", "M4", "--full", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "# the run with M4 wrote inside its tree: created: scaled.log" in out
    assert "the run with main" not in out


def test_a_tree_whose_suite_cannot_start_scores_zero_instead_of_stopping_the_curve(
    tmp_path, capsys
):
    repo = make_root(tmp_path, {"tests/conftest.py": "import services.calc\n"})
    broken = ("services/calc.py", '"""Arithmetic', 'import services.missing\n"""Arithmetic')
    write_bug(repo, "L1", [broken])
    out = tmp_path / "curve"
    assert main(["--root", str(repo), "curve", "--out", str(out), "--jobs", "2"]) == 0
    with open(out / "curve.csv", encoding="utf-8") as rows:
        table = [(r["bug"], r["passed"], r["reward"]) for r in csv.DictReader(rows)]
    assert table == [("", "0", "0.0"), ("L1", "2", "1.0")]
    assert "the run with L1 (scored as the scorer scores it): " in capsys.readouterr().out
