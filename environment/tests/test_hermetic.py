"""Suite runs report every file they create, modify or delete inside the tree."""

from __future__ import annotations

import json
import os

from environment.runner import run_suite
from environment.scorer import main as scorer_main
from environment.scorer import score_tree
from environment.snapshot import changes, snapshot
from environment.tests.factories import write_project

WRITER = {
    "tests/unit/ml_pipeline/test_store.py": """
        from pathlib import Path

        def test_writes_a_database_next_to_the_code():
            Path("var").mkdir(exist_ok=True)
            Path("var/models.sqlite3").write_text("rows", encoding="utf-8")

        def test_rewrites_and_removes_files():
            Path("data.txt").write_text("changed, longer", encoding="utf-8")
            Path("old.txt").unlink()
        """,
    "data.txt": "original",
    "old.txt": "gone soon",
}
QUIET = {
    "tests/unit/ml_pipeline/test_quiet.py": """
        def test_reads_only(tmp_path):
            (tmp_path / "scratch.txt").write_text("outside the tree", encoding="utf-8")
        """,
}
EXPECTED = {
    "tests/unit/ml_pipeline/test_quiet.py::test_reads_only": {
        "category": "unit/ml_pipeline",
        "service": "training",
    }
}


def test_snapshot_diff_lists_created_modified_and_deleted_paths(tmp_path):
    tree = write_project(tmp_path / "t", {"a.txt": "a", "b.txt": "b", "keep.txt": "k"})
    before = snapshot(tree)
    (tree / "a.txt").write_text("longer a", encoding="utf-8")
    (tree / "b.txt").unlink()
    (tree / "new").mkdir()
    (tree / "new" / "c.txt").write_text("c", encoding="utf-8")
    assert changes(before, snapshot(tree)) == [
        "modified: a.txt",
        "deleted: b.txt",
        "created: new/",
        "created: new/c.txt",
    ]


def test_a_rewrite_of_the_same_size_is_seen_by_its_mtime(tmp_path):
    tree = write_project(tmp_path / "t", {"a.txt": "aaaa"})
    before = snapshot(tree)
    os.utime(tree / "a.txt", ns=(1, 1))
    assert changes(before, snapshot(tree)) == ["modified: a.txt"]


def test_suite_run_reports_what_its_tests_wrote_inside_the_tree(tmp_path):
    tree = write_project(tmp_path / "tree", WRITER)
    report = run_suite(tree)
    assert report.passing == [
        "tests/unit/ml_pipeline/test_store.py::test_rewrites_and_removes_files",
        "tests/unit/ml_pipeline/test_store.py::test_writes_a_database_next_to_the_code",
    ]
    assert report.tree_changes == [
        "modified: data.txt",
        "deleted: old.txt",
        "created: var/",
        "created: var/models.sqlite3",
    ]


def test_run_that_writes_only_to_temp_folders_leaves_the_tree_unchanged(tmp_path):
    tree = write_project(tmp_path / "tree", QUIET)
    assert run_suite(tree).tree_changes == []


def test_scorer_reports_tree_changes_in_results_and_on_stdout_without_scoring_them(
    tmp_path, capsys
):
    pristine = write_project(tmp_path / "pristine", QUIET)
    tree = write_project(tmp_path / "tree", QUIET)
    (tree / "tests/unit/ml_pipeline/test_quiet.py").write_text("x = 1\n", encoding="utf-8")
    (tree / "conftest.py").write_text(
        "def pytest_sessionstart(session):\n    open('leak.txt', 'w').close()\n", encoding="utf-8"
    )
    # The stray root conftest is removed before the run, so the tree stays unchanged.
    assert score_tree(tree, pristine, EXPECTED)["tree_changes"] == []
    pristine_conftest = pristine / "tests/conftest.py"
    pristine_conftest.write_text(
        "def pytest_sessionstart(session):\n    open('leak.txt', 'w').close()\n", encoding="utf-8"
    )
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps(EXPECTED), encoding="utf-8")
    out, reward_out = tmp_path / "results.json", tmp_path / "reward.json"
    args = [str(tree), "--pristine", str(pristine), "--expected", str(expected)]
    assert scorer_main([*args, "--out", str(out), "--reward-out", str(reward_out)]) == 0
    assert json.loads(out.read_text())["tree_changes"] == ["created: leak.txt"]
    assert json.loads(reward_out.read_text())["reward"] == 1.0
    assert "the suite run changed 1 path(s) inside the tree: created: leak.txt" in (
        capsys.readouterr().out
    )
