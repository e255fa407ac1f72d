"""Building the agent tree: what ships, planting, the solution sidecar."""

from __future__ import annotations

import json
import subprocess

import pytest

from harness.build import BuildError, build_environment, solution_dir
from harness.catalogue import load_catalogue
from harness.shipping import GENERATED_README, shipped_files
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root, write_bug
from harness.trees import diff_trees


@pytest.fixture
def root(tmp_path):
    root = make_root(tmp_path, {"docker-compose.yml": "services: {}\n"})
    write_bug(root, "M1", [SCALE_EDIT])
    write_bug(root, "A1", [MEAN_EDIT])
    return root


def test_only_shipped_files_are_selected(root):
    files = set(shipped_files(root))
    assert "services/calc.py" in files and "tests/unit/ml_pipeline/test_calc.py" in files
    assert {"pyproject.toml", "requirements.txt", "docker-compose.yml"} <= files
    leaked = [f for f in files if f.split("/")[0] in ("bugs", "harness", ".git", "docs")]
    assert leaked == []
    assert not any("__pycache__" in f or f.startswith("environment/tests") for f in files)


def test_agent_readme_comes_from_docs_when_present(tmp_path):
    root = make_root(tmp_path, {"docs/AGENT_README.md": "# For agents\n"})
    built = build_environment(root, tmp_path / "out", [], {})
    assert (built.path / "README.md").read_text() == "# For agents\n"


def test_a_minimal_readme_is_generated_otherwise(root, tmp_path):
    built = build_environment(root, tmp_path / "out", [], {})
    assert (built.path / "README.md").read_text() == GENERATED_README


def test_build_plants_bugs_and_writes_the_sidecar(root, tmp_path):
    bugs = list(load_catalogue(root / "bugs").values())
    built = build_environment(root, tmp_path / "out", bugs, {"expected_tests": ["t"]})
    assert "v + factor" in (built.path / "services/calc.py").read_text()
    sidecar = solution_dir(built.path)
    assert sidecar == tmp_path / "out.solution"
    manifest = json.loads((sidecar / "manifest.json").read_text())
    assert manifest["bugs"] == ["M1", "A1"] and manifest["expected_tests"] == ["t"]
    assert (sidecar / "solve.sh").stat().st_mode & 0o111


def test_build_then_solve_gives_the_main_tree(root, tmp_path):
    bugs = list(load_catalogue(root / "bugs").values())
    clean = build_environment(root, tmp_path / "clean", [], {})
    built = build_environment(root, tmp_path / "out", bugs, {})
    subprocess.run(
        ["bash", str(solution_dir(built.path) / "solve.sh"), str(built.path)], check=True
    )
    assert diff_trees(clean.path, built.path) == []


def test_build_replaces_a_previous_build_but_not_other_folders(root, tmp_path):
    build_environment(root, tmp_path / "out", [], {})
    (tmp_path / "out" / "stray.txt").write_text("x")
    build_environment(root, tmp_path / "out", [], {})
    assert not (tmp_path / "out" / "stray.txt").exists()
    other = tmp_path / "precious"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(BuildError, match="refusing to overwrite"):
        build_environment(root, other, [], {})


def test_a_failing_edit_names_the_bug_and_leaves_no_tree(root, tmp_path):
    write_bug(root, "B2", [("services/calc.py", "return 42\n", "return 41\n")])
    bugs = list(load_catalogue(root / "bugs").values())
    with pytest.raises(Exception, match="B2: 'before' text occurs 0 times in services/calc.py"):
        build_environment(root, tmp_path / "out", bugs, {})
    assert not (tmp_path / "out").exists()
