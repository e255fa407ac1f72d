"""Test selection from main's coverage map, and the cached, parallel probes that use it."""

from __future__ import annotations

import pytest

from harness import selection
from harness.catalogue import Bug, Edit
from harness.coverage_map import CoverageMap, coverage_map, map_path
from harness.probe import Probe, probe_many
from harness.selection import changed_lines, enclosing_function, select_tests
from harness.tests.factories import make_root

TEXT = '''
"""String helpers of the gateway."""

import functools

LIMIT = 3


def shout(text):
    """Return the text in capitals."""
    return text.upper()


def first(text):
    """Return the first LIMIT characters."""
    return text[:LIMIT]


def build():
    """Return a greeting (expensive; built once per session)."""
    return "hello"


def words(text):
    """Yield the words of a text."""
    return text.split()


@functools.lru_cache(maxsize=1)
def settings():
    """Return the settings."""
    return {"loud": True}
'''
TEST_TEXT = """
import pytest

from services.text import first, shout

pytestmark = pytest.mark.gateway


def test_shout():
    assert shout("a") == "A"


def test_first():
    assert first("abcdef") == "abc"
"""
# The module is imported by name inside the fixture, so no import statement names it:
# only the coverage map can tell that both tests depend on it.
SHARED_TEXT = """
import importlib

import pytest

pytestmark = pytest.mark.gateway


@pytest.fixture(scope="module")
def greeting():
    return importlib.import_module("services." + "text").build()


def test_greeting_first(greeting):
    assert greeting == "hello"


def test_greeting_again(greeting):
    assert greeting.startswith("h")
"""
TEXT_TESTS = "tests/unit/ml_pipeline/test_text.py"
SHARED_TESTS = "tests/unit/ml_pipeline/test_shared.py"
CALC_TESTS = "tests/unit/ml_pipeline/test_calc.py"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    extra = {"services/text.py": TEXT, TEXT_TESTS: TEST_TEXT, SHARED_TESTS: SHARED_TEXT}
    return make_root(tmp_path_factory.mktemp("repo"), extra)


@pytest.fixture(scope="module")
def cmap(root):
    return coverage_map(root)


def bug(*edits: tuple[str, str, str]) -> Bug:
    return Bug("M1", "t", "M", (), (), (), tuple(Edit(*e) for e in edits))


def expected(root) -> list[str]:
    from harness.collect import collect_main

    return list(collect_main(root))


def test_changed_lines_skip_unchanged_context():
    text = "a\nb\nc\nd\n"
    assert changed_lines(text, "b\nc\n", "b\nC\n") == ((3, 3), (3, 3))
    assert changed_lines(text, "b\nc\n", "b\nx\nc\n") == ((2, 3), (3, 3))


def test_enclosing_function_is_the_innermost_body():
    source = "def f():\n    x = 1\n\n    def g():\n        return x\n\n    return g\n"
    assert enclosing_function(source, (5, 5))[0] == "f.g"
    assert enclosing_function(source, (2, 2))[0] == "f"
    assert enclosing_function(source, (1, 1)) is None


def test_the_map_is_collected_once_and_cached(root, cmap):
    assert map_path(root).is_file()
    line = (root / "services/text.py").read_text().splitlines().index("    return text.upper()")
    shout = cmap.contexts_of("services/text.py", range(line + 1, line + 2))
    assert shout == {f"test:{TEXT_TESTS}::test_shout"}


def test_an_edit_inside_a_function_selects_its_tests_and_its_importers(root, cmap):
    edit = ("services/calc.py", "    return [v * factor for v in values]\n", "    return []\n")
    chosen = select_tests(root, cmap, expected(root), [bug(edit)])
    assert chosen == [f"{CALC_TESTS}::test_mean_of_two", f"{CALC_TESTS}::test_scale_multiplies"]


def test_a_shared_fixture_reaches_tests_that_never_ran_the_code(root, cmap):
    edit = ("services/text.py", '    return "hello"\n', '    return "hullo"\n')
    chosen = select_tests(root, cmap, expected(root), [bug(edit)])
    assert f"{SHARED_TESTS}::test_greeting_again" in chosen
    assert f"{SHARED_TESTS}::test_greeting_first" in chosen
    assert f"{CALC_TESTS}::test_mean_of_two" not in chosen


def test_a_module_level_value_selects_the_tests_that_can_see_the_module(root, cmap):
    edit = ("services/text.py", "LIMIT = 3\n", "LIMIT = 2\n")
    chosen = select_tests(root, cmap, expected(root), [bug(edit)])
    assert (
        f"{TEXT_TESTS}::test_first" in chosen and f"{SHARED_TESTS}::test_greeting_again" in chosen
    )
    assert not any(t.startswith(CALC_TESTS) for t in chosen)


@pytest.mark.parametrize(
    "edit",
    [
        ("services/text.py", "LIMIT = 3\n", "LIMIT = 2\nprint(LIMIT)\n"),  # module-level call
        ("services/text.py", "@functools.lru_cache(maxsize=1)\n", "@functools.cache\n"),
        ("services/text.py", '    return {"loud": True}\n', '    return {"loud": 0}\n'),  # cache
        ("services/text.py", "    return text.split()\n", "    yield text\n"),  # kind change
        ("pyproject.toml", 'testpaths = ["tests"]\n', 'testpaths = ["test"]\n'),
        ("services/text.py", "no such text\n", "x\n"),
    ],
)
def test_edits_whose_reach_coverage_cannot_see_select_everything(root, cmap, edit):
    assert selection.tests_for_edit(root, cmap, expected(root), Edit(*edit)) is None


def test_probes_are_cached_by_the_planted_tree(root):
    edit = ("services/calc.py", "    return sum(values) / len(values)\n", "    return 0\n")
    probes = [Probe([bug(edit)], [f"{CALC_TESTS}::test_mean_of_two"])]
    first = probe_many(root, probes, jobs=1)[0]
    again = probe_many(root, probes, jobs=1)[0]
    fresh = probe_many(root, probes, jobs=1, cache=False)[0]
    assert (first.cached, again.cached, fresh.cached) == (False, True, False)
    assert first.report.outcomes == again.report.outcomes == fresh.report.outcomes
    assert first.report.outcomes == {f"{CALC_TESTS}::test_mean_of_two": "failed"}
    (root / CALC_TESTS).write_text((root / CALC_TESTS).read_text() + "\n# changed\n")
    assert not probe_many(root, probes, jobs=1)[0].cached


def gates_by_number(gates) -> dict[str, object]:
    return {g.name.split(":")[0]: g for g in gates}


@pytest.fixture(scope="module")
def recorded(root):
    from harness.cli import main
    from harness.tests.factories import write_bug

    write_bug(root, "M1", [("services/calc.py", "v * factor", "v + factor")])
    write_bug(root, "A1", [("services/text.py", "text.upper()", "text.lower()")])
    assert main(["--root", str(root), "record", "--all", "--jobs", "2"]) == 0
    return root


# Several suite runs in subprocesses: 30 s is too tight on a loaded 2-core machine.
@pytest.mark.timeout(180)
def test_verify_runs_selected_tests_and_checks_a_sample_in_full(recorded):
    from harness.catalogue import load_catalogue
    from harness.collect import collect_main
    from harness.verify import SuiteOptions, suite_gates

    catalogue = load_catalogue(recorded / "bugs")
    options = SuiteOptions(jobs=2, check_selection=1)
    gates = gates_by_number(suite_gates(recorded, catalogue, collect_main(recorded), options))
    assert gates["3"].passed and gates["3s"].passed and gates["4"].passed and gates["7"].passed
    assert gates["3s"].info == [
        "2 of 2 single-bug runs ran selected tests; 1 of them were compared with a full run"
    ]


# Several suite runs in subprocesses: 30 s is too tight on a loaded 2-core machine.
@pytest.mark.timeout(180)
def test_a_selection_that_misses_a_failing_test_is_caught_by_the_full_rerun(recorded, monkeypatch):
    from harness import plan
    from harness.catalogue import load_catalogue
    from harness.collect import collect_main
    from harness.verify import SuiteOptions, suite_gates

    monkeypatch.setattr(plan, "select_tests", lambda *args: [f"{CALC_TESTS}::test_mean_of_two"])
    catalogue = load_catalogue(recorded / "bugs")
    options = SuiteOptions(jobs=2, check_selection=0)
    gates = gates_by_number(suite_gates(recorded, catalogue, collect_main(recorded), options))
    assert gates["3"].passed  # judged on the full re-runs
    missed = f"M1: fails only in the full run (not selected): {CALC_TESTS}::test_scale_multiplies"
    assert missed in gates["3s"].problems


def test_import_graph_follows_relative_imports_and_parent_packages(tmp_path):
    from harness.imports import dependents, import_graph, imported_modules

    assert imported_modules("from .b import c\n", "pkg.a") == {"pkg.b", "pkg.b.c"}
    assert imported_modules("from . import b\n", "pkg", package=True) == {"pkg.b", "pkg"}
    files = {
        "shared/__init__.py": "",
        "shared/base.py": "X = 1\n",
        "shared/user.py": "from .base import X\n",
        "services/__init__.py": "",
        "services/app.py": "import shared.user\n",
        "services/other.py": "Y = 2\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    seen = dependents(import_graph(tmp_path), "shared.base")
    assert seen == {"shared.base", "shared.user", "services.app"}


def test_import_graph_is_reused_until_a_code_file_changes(tmp_path):
    from harness.imports import import_graph

    files = {"shared/__init__.py": "", "shared/a.py": "X = 1\n", "shared/b.py": "Y = 2\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    first = import_graph(tmp_path)
    assert import_graph(tmp_path) is first
    assert "shared.a" not in first["shared.b"]
    (tmp_path / "shared/b.py").write_text("from shared.a import X\n")
    assert "shared.a" in import_graph(tmp_path)["shared.b"]
    (tmp_path / "shared/c.py").write_text("import shared.b\n")
    assert import_graph(tmp_path)["shared.c"] == {"shared", "shared.b"}


def test_a_module_loaded_by_name_outside_the_import_graph_selects_everything(tmp_path):
    root = make_root(tmp_path, {"services/loaded.py": "NAME = 'x'\n"})
    cmap = CoverageMap(["import:services.loaded"], {"services/loaded.py": {1: [0]}})
    edit = Edit("services/loaded.py", "NAME = 'x'\n", "NAME = 'y'\n")
    assert selection.tests_for_edit(root, cmap, [], edit) is None
    never_loaded = CoverageMap([], {})
    assert selection.tests_for_edit(root, never_loaded, [], edit) == set()
