"""Mutant generation, sampling and scoring (`harness mutants`); the runs themselves are probes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from environment.report import SuiteReport
from harness import mutants
from harness.coverage_map import CoverageMap
from harness.plant import apply_edit
from harness.probe import Probe, ProbeResult

SOURCE = '''"""A module docstring: 1 < 2 is text, never mutated."""

import logging

log = logging.getLogger(__name__)
LIMIT = 64


def clamp(value: int, low: int = 0) -> int:
    """Keep value in [low, LIMIT]."""
    if value < low or value > LIMIT:
        log.warning("clamped %s", value + 1)
        return low if not value else LIMIT
    total = value
    total += 1
    return total * 2


def same(a: int, b: int) -> bool:
    return a == b
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    module = tmp_path / "shared" / "limits.py"
    module.parent.mkdir(parents=True)
    module.write_text(SOURCE)
    (tmp_path / "shared" / "__init__.py").write_text("")
    (tmp_path / "services" / "tests").mkdir(parents=True)
    (tmp_path / "services" / "tests" / "test_x.py").write_text("assert 1 == 1\n")
    return tmp_path


def by_label(found: list[mutants.Mutant]) -> dict[str, list[mutants.Mutant]]:
    table: dict[str, list[mutants.Mutant]] = {}
    for mutant in found:
        table.setdefault(mutant.label, []).append(mutant)
    return table


def test_every_operator_family_yields_its_swap(tree):
    labels = by_label(mutants.mutants_of(tree, tree / "shared" / "limits.py"))
    for label in ("< -> <=", "> -> >=", "or -> and", "drop not", "+= -> -=", "* -> /", "== -> !="):
        assert label in labels, label
    assert "64 -> 65" in labels and "0 -> 1" in labels


def test_docstrings_annotations_and_log_calls_are_left_alone(tree):
    found = mutants.mutants_of(tree, tree / "shared" / "limits.py")
    lines = {m.line for m in found}
    assert 1 not in lines  # module docstring
    assert 12 not in lines  # the log call's argument `value + 1`
    assert 19 not in lines  # `def same(a: int, b: int) -> bool:` is all annotations
    signature = [m.label for m in found if m.line == 9]
    assert signature == ["0 -> 1"]  # the default value, not the annotations around it


def test_a_mutant_plants_as_an_exact_edit_that_changes_only_its_line(tree):
    text = SOURCE
    for mutant in mutants.mutants_of(tree, tree / "shared" / "limits.py"):
        planted, _ = apply_edit(text, mutant.edit, mutant.id)
        changed = [
            (old, new)
            for old, new in zip(text.splitlines(), planted.splitlines(), strict=True)
            if old != new
        ]
        assert changed == [(mutant.original, mutant.mutated)], mutant
        assert mutants.compiles(tree, mutant)


def test_ids_are_stable_when_lines_move(tree):
    path = tree / "shared" / "limits.py"
    before = {m.id for m in mutants.mutants_of(tree, path)}
    path.write_text("# a new first line\n" + SOURCE)
    after = {m.id for m in mutants.mutants_of(tree, path)}
    assert before == after


def test_tests_packages_and_inits_are_not_mutated(tree):
    files = [p.relative_to(tree).as_posix() for p in mutants.source_files(tree)]
    assert files == ["shared/limits.py"]


def test_a_seed_names_one_sample_in_source_order(tree):
    found = mutants.all_mutants(tree)
    first = mutants.sample_mutants(found, 5, seed=3)
    assert first == mutants.sample_mutants(found, 5, seed=3)
    assert first != mutants.sample_mutants(found, 5, seed=4)
    order = [found.index(m) for m in first]
    assert order == sorted(order)
    assert mutants.sample_mutants(found, len(found) + 10, seed=3) == found


def outcome(status: str, tree: Path) -> mutants.Outcome:
    mutant = mutants.mutants_of(tree, tree / "shared" / "limits.py")[0]
    return mutants.Outcome(mutant, status, 3)


def test_score_leaves_equivalent_mutants_out_and_counts_uncovered_as_survivors(tree):
    outcomes = [outcome(s, tree) for s in ("killed", "killed", "survived", "uncovered")]
    outcomes.append(outcome("equivalent", tree))
    assert mutants.score(outcomes) == pytest.approx(0.5)
    report = json.loads(mutants.report_json(outcomes, seed=1, candidates=9))
    assert report["summary"]["counts"] == {
        "killed": 2,
        "survived": 1,
        "uncovered": 1,
        "equivalent": 1,
    }
    assert "edit" not in report["outcomes"][0]["mutant"]


def test_equivalents_are_read_with_their_reasons(tmp_path):
    listed = tmp_path / "eq.toml"
    listed.write_text('[[equivalent]]\nid = "MUT-1"\nreason = "cache size 1 or 2 holds one key"\n')
    assert mutants.load_equivalents(listed) == {"MUT-1": "cache size 1 or 2 holds one key"}
    assert mutants.load_equivalents(tmp_path / "missing.toml") == {}


def test_every_listed_equivalent_names_a_mutant_of_main():
    root = Path(__file__).resolve().parents[2]
    ids = {m.id for m in mutants.all_mutants(root)}
    assert set(mutants.load_equivalents()) <= ids


def run_result(outcomes: dict[str, str], selected: list[str] | None) -> ProbeResult:
    return ProbeResult(["MUT"], SuiteReport(outcomes=outcomes, exitstatus=1), selected=selected)


def test_a_run_stopped_at_its_first_failure_is_killed_by_that_test_alone(tree):
    mutant = mutants.mutants_of(tree, tree / "shared" / "limits.py")[0]
    passing = {"t::a", "t::b", "t::c"}
    stopped = run_result({"t::a": "passed", "t::b": "failed"}, ["t::a", "t::b", "t::c"])
    outcome = mutants._classify(mutant, stopped, passing)
    assert (outcome.status, outcome.killed_by) == ("killed", ("t::b",))


def test_a_clean_run_that_lost_a_test_passing_on_main_kills_the_mutant(tree):
    mutant = mutants.mutants_of(tree, tree / "shared" / "limits.py")[0]
    lost = run_result({"t::a": "passed"}, None)
    outcome = mutants._classify(mutant, lost, {"t::a", "t::b"})
    assert (outcome.status, outcome.killed_by) == ("killed", ("t::b",))
    kept = run_result({"t::a": "passed", "t::b": "passed"}, None)
    assert mutants._classify(mutant, kept, {"t::a", "t::b"}).status == "survived"


def test_a_mutant_runs_only_tests_passing_on_main_and_stops_at_the_first_failure(tree, monkeypatch):
    mutant = mutants.mutants_of(tree, tree / "shared" / "limits.py")[0]
    cmap = CoverageMap([], {})
    monkeypatch.setattr("harness.selection.tests_for_edit", lambda *_: None)  # all in scope
    expected = ["t::a", "t::broken", "t::c"]
    planned = mutants._plan(tree, cmap, expected, {"t::a", "t::c"}, mutant, {})
    assert isinstance(planned, Probe)
    assert planned.tests == ["t::a", "t::c"] and planned.args == mutants.FAIL_FAST
    nothing = mutants._plan(tree, cmap, ["t::broken"], set(), mutant, {})
    assert isinstance(nothing, mutants.Outcome) and nothing.status == "uncovered"


def test_rejudge_runs_again_only_what_no_test_killed(tree, monkeypatch):
    found = mutants.mutants_of(tree, tree / "shared" / "limits.py")
    first, second, fourth, third = *found[:3], found[-1]
    assert third.line not in {m.line for m in (first, second, fourth)}
    earlier = [
        mutants.Outcome(first, "killed", 3, ("t::a",)),
        mutants.Outcome(second, "survived", 3),
        mutants.Outcome(third, "uncovered", 0),
        mutants.Outcome(fourth, "invalid", 0, reason="does not compile"),
    ]
    report = tree / "mutants.json"
    report.write_text(mutants.report_json(earlier, seed=4, candidates=len(found)))
    # The line of the third mutant changes after the report was written.
    module = tree / "shared" / "limits.py"
    module.write_text(module.read_text().replace(third.original, third.original + "  # moved"))
    ran: list[str] = []

    def run_again(root, sample, equivalents, **_):
        ran.extend(m.id for m in sample)
        return [mutants.Outcome(m, "killed", 1, ("t::new",)) for m in sample]

    monkeypatch.setattr(mutants, "run_mutants", run_again)
    summary, rows = mutants.read_report(report)
    judged = mutants.rejudge(tree, rows, {})
    assert summary["seed"] == 4
    assert ran == [second.id]
    assert [o.status for o in judged] == ["killed", "killed", "gone", "invalid"]
    assert judged[0].killed_by == ("t::a",)
    assert mutants.score(judged) == 1.0


def test_a_report_that_is_not_one_is_refused(tmp_path):
    broken = tmp_path / "mutants.json"
    broken.write_text('{"summary": {}}')
    with pytest.raises(ValueError, match="not a mutants report"):
        mutants.read_report(broken)
