"""Static catalogue checks: metadata, cycles, dependency agreement, brief constraints."""

from __future__ import annotations

from itertools import pairwise

from harness.catalogue import Bug, Edit
from harness.schema import (
    chain_depth,
    check_brief,
    check_metadata,
    check_shares,
    find_cycles,
    is_coordinated,
    is_flow_only,
    known_services,
)
from harness.verify import implied_dependencies

EDIT = (Edit("f.py", "a", "b"),)


def bug(bug_id, deps=(), fails=("t::a",), services=("training",), files=("f.py",)):
    edits = tuple(Edit(f, "a", "b") for f in files)
    return Bug(bug_id, "t", bug_id[0], tuple(services), tuple(deps), tuple(fails), edits)


def catalogue(*bugs):
    return {b.id: b for b in bugs}


def test_known_services_reads_positional_and_keyword_names_without_importing(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "services.py").write_text(
        "raise SystemExit('never imported')\n"
        "SERVICES = [ServiceSpec('gateway', 8000), ServiceSpec(name='admin', port=8014),\n"
        "            ServiceSpec(port=1), Other('search', 1)]\n",
        encoding="utf-8",
    )
    assert known_services(tmp_path) == {"gateway", "admin"}


def test_metadata_problems_are_listed():
    bugs = catalogue(
        bug("M1", deps=("Q1",), fails=()),
        bug("M2", services=("nowhere",), fails=("t::unknown",)),
    )
    problems = check_metadata(bugs, {"training"}, {"t::a"})
    assert "M1: depends_on names 'Q1', not another bug" in problems
    assert "M1: fails is empty (record it with 'harness record')" in problems
    assert "M2: unknown service 'nowhere'" in problems
    assert "M2: fails names unknown test t::unknown" in problems


def test_cycles_are_found():
    bugs = catalogue(bug("A1", deps=("A2",)), bug("A2", deps=("A3",)), bug("A3", deps=("A1",)))
    assert find_cycles(bugs) == ["dependency cycle: A1 -> A2 -> A3 -> A1"]
    assert find_cycles(catalogue(bug("A1"), bug("A2", deps=("A1",)))) == []


def test_chain_depth_counts_bugs_on_the_longest_chain():
    bugs = catalogue(bug("A1"), bug("A2", deps=("A1",)), bug("A3", deps=("A2", "A1")))
    assert chain_depth(bugs) == 3


def test_declared_dependency_must_cover_the_dependents_failures():
    bugs = catalogue(bug("A1"), bug("B1", deps=("A1",)), bug("C1"))
    fails = {"A1": {"t::a"}, "B1": {"t::a", "t::b"}, "C1": {"t::c"}}
    violations, implied = implied_dependencies(bugs, fails)
    assert violations == ["B1 depends on A1, but 1 of its tests pass with A1 alone, e.g. t::b"]
    assert implied == ["A1 behaves as depending on B1 (undeclared)"]


def test_a_bug_that_breaks_everything_is_reported_once_as_a_blocker():
    bugs = catalogue(bug("L1"), bug("A1"), bug("B1"))
    fails = {"L1": {"t::a", "t::b"}, "A1": {"t::a"}, "B1": {"t::b"}}
    _, implied = implied_dependencies(bugs, fails)
    assert implied == ["L1 blocks every test the catalogue breaks"]


def test_dependencies_reached_through_declared_ones_are_not_reported():
    bugs = catalogue(bug("A1"), bug("B1", deps=("A1",)), bug("C1", deps=("B1",)), bug("D1"))
    fails = {"A1": {"t::a", "t::b", "t::c"}, "B1": {"t::a", "t::b"}, "C1": {"t::a"}, "D1": {"t::d"}}
    violations, implied = implied_dependencies(bugs, fails)
    assert violations == []
    assert implied == []


def test_holding_dependency_has_no_violation():
    bugs = catalogue(bug("A1"), bug("B1", deps=("A1",)))
    violations, _ = implied_dependencies(bugs, {"A1": {"t::a", "t::b"}, "B1": {"t::a"}})
    assert violations == []


def test_brief_key_files_and_required_dependencies_are_checked():
    bugs = catalogue(bug("B1", deps=("A1",), files=("services/inference/main.py",)))
    problems = check_brief(bugs)
    assert (
        "B1: the README places it in shared/ml/model_loader.py, which it does not edit" in problems
    )
    assert "B1: must depend on M1, L5" in problems


def test_a_catalogue_whose_longest_chain_is_short_of_seven_fails_the_brief():
    ids = ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]
    links = [bug(ids[0])] + [bug(b, deps=(a,)) for a, b in pairwise(ids)]
    assert chain_depth(catalogue(*links)) == 7
    assert not any("chain" in p for p in check_brief(catalogue(*links)))
    problems = check_brief(catalogue(*links[:6]))
    assert "the longest dependency chain is 6 deep; the brief asks for 7" in problems


def test_bugs_failing_only_flow_tests_are_flow_only():
    assert is_flow_only(bug("A1", fails=("tests/system/test_x.py::t", "tests/integration/y.py::t")))
    assert not is_flow_only(bug("A1", fails=("tests/system/x.py::t", "tests/unit/a/y.py::t")))


def test_a_second_edit_that_only_changes_an_import_is_not_a_second_place():
    code = Edit("a.py", "x = 1\n", "x = 2\n")
    other = Edit("b.py", "return a < b\n", "return a <= b\n")
    imports = Edit("b.py", "from m import (\n    f,\n    g,\n)\n", "from m import (\n    f,\n)\n")
    assert is_coordinated(Bug("A1", "t", "A", ("training",), (), ("t::a",), (code, other)))
    assert not is_coordinated(Bug("A1", "t", "A", ("training",), (), ("t::a",), (code, imports)))


def test_shares_below_the_brief_are_problems_and_setup_bugs_do_not_count():
    unit = ("tests/unit/ml_pipeline/test_x.py::t",)
    bugs = catalogue(bug("L1", fails=unit), bug("A1", fails=unit), bug("A2", fails=unit), bug("A3"))
    assert check_shares(bugs) == [
        "flow-only (no unit test fails): 1 of 3 non-L bugs (33%); the brief asks for at least 40%",
        "coordinated (edits in two or more places): 0 of 3 non-L bugs (0%); the brief asks for "
        "at least 25%",
    ]
    two = bug("A2", fails=unit, files=("a.py", "b.py"))
    assert check_shares(catalogue(bug("A1"), two, bug("A3"))) == []
