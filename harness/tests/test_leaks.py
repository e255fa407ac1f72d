"""Leak check: bug IDs in comments and docstrings, forbidden paths, hint words."""

from __future__ import annotations

import shutil

from harness.catalogue import Bug, Edit
from harness.leaks import hint_words, id_mentions, scan_text, scan_tree, scan_words
from harness.shipping import copy_shipped
from harness.tests.factories import make_root

KNOWN = {"B1", "L2", "F1", "A1", "M3"}


def bug_with(after: str, before: str = "x = 1\n") -> Bug:
    return Bug(
        "M3", "Title long enough here", "M", ("training",), (), (), (Edit("f.py", before, after),)
    )


def test_id_in_a_comment_is_flagged():
    assert scan_text("shared/x.py", "x = 1  # see B1\n", KNOWN) == ["shared/x.py:1: mentions B1"]


def test_id_in_a_docstring_is_flagged():
    text = 'def f():\n    """Swap models (A1 race)."""\n'
    assert scan_text("shared/x.py", text, KNOWN) == ["shared/x.py:2: mentions A1"]


def test_technical_terms_that_look_like_ids_are_not_flagged():
    text = "# L2 norm of the weights, F1 score per class, L2-regularised loss\n"
    assert scan_text("shared/x.py", text, KNOWN) == []


def test_ml_metric_names_are_flagged_only_in_bug_context():
    assert scan_text("shared/m.py", '"""Return precision, recall and F1."""\n', KNOWN) == []
    assert scan_text("shared/m.py", "# L1 (sparse) or L2\n", KNOWN) == []
    assert scan_text("shared/m.py", "# fixes F1\n", KNOWN) == ["shared/m.py:1: mentions F1"]


def test_ids_in_code_and_data_strings_are_not_flagged():
    text = 'A1 = 3\ncell = "B1"\nrow = {"M3": A1}\n'
    assert scan_text("tests/test_x.py", text, KNOWN) == []


def test_data_string_with_bug_context_is_flagged():
    text = 'reason = "workaround for bug B1"\n'
    assert scan_text("shared/x.py", text, KNOWN) == ["shared/x.py:1: mentions B1"]


def test_ids_outside_the_catalogue_are_ignored():
    assert id_mentions("# see K7 and B1", KNOWN) == ["B1"]
    assert id_mentions("A100 GPUs and K8s clusters", None) == []


def test_non_python_files_are_flagged_only_with_bug_context():
    assert scan_text("services/x.yml", "grid: B1\n", KNOWN) == []
    assert scan_text("services/x.yml", "# fixes B1\n", KNOWN) == ["services/x.yml:1: mentions B1"]


def test_tree_scan_finds_forbidden_paths_catalogue_text_and_titles(tmp_path):
    root = make_root(
        tmp_path,
        {
            "services/notes.toml": "[[edits]]\n",
            "shared/util.py": '"""Helpers."""\n# Title long enough here\n',
        },
    )
    findings = scan_tree(root, [bug_with("x = 2\n")])
    assert "bugs: must not ship" in findings
    assert "harness: must not ship" in findings
    assert ".git: must not ship" in findings
    assert "docs/ARCHITECTURE.md: must not ship" in findings
    assert "services/notes.toml: holds catalogue text ([[edits]])" in findings
    assert "shared/util.py: holds the title 'Title long enough here'" in findings


def test_clean_tree_has_no_findings(tmp_path):
    root = make_root(tmp_path)
    for name in ("bugs", "harness", ".git", "docs"):
        shutil.rmtree(root / name)
    assert scan_tree(root, [bug_with("x = 2\n")]) == []


def test_hint_words_in_added_lines_are_flagged():
    assert hint_words(bug_with("x = 2  # bug here\n")) == ["M3: f.py: added line hints 'bug'"]
    assert hint_words(bug_with("x = 2  # should be 1\n"))[0].endswith("'should'")


def test_ordinary_code_in_added_lines_is_not_flagged():
    assert hint_words(bug_with("correct = preds == labels\n")) == []
    assert hint_words(bug_with("x = 1  # keep the bug\n", before="x = 1  # keep the bug\n")) == []


def test_every_shipped_file_is_scanned_for_maintainer_words(tmp_path):
    root = make_root(
        tmp_path,
        {
            "pyproject.toml": '[project]\ndescription = "A catalogue of planted bugs."\n',
            "requirements.txt": "numpy==2.2.5  # pinned below 2.3 for the injected bug\n",
            "scenarios/hang.md": "# Training hangs\n\nThe harness restarts workers.\n",
            "README.md": "# Task\n\nFind the bugs that break the platform; solve.sh is hidden.\n",
        },
    )
    for name in ("bugs", "harness", ".git", "docs"):
        shutil.rmtree(root / name)
    assert scan_tree(root, [bug_with("x = 2\n")]) == [
        "README.md:3: says 'solve.sh'",
        "pyproject.toml:2: says 'catalogue of planted bugs'",
        "requirements.txt:1: says 'injected bug'",
        "scenarios/hang.md:3: says 'harness'",
    ]


def test_hint_words_count_in_prose_of_every_shipped_file_but_the_task_statement():
    assert scan_words("README.md", "Bug patterns to expect\n") == []
    assert scan_words("scenarios/x.md", "A known bug in the lock\n") == [
        "scenarios/x.md:1: says 'bug'"
    ]
    assert scan_words(".dockerignore", "bugs\n") == [".dockerignore:1: says 'bugs'"]
    test_text = 'def test_x():\n    """Regression test for the retry bug."""\n'
    assert scan_words("tests/test_x.py", test_text) == ["tests/test_x.py:2: says 'bug'"]
    assert scan_words("tests/test_x.py", "# TODO tighten\nx = 1\n") == [
        "tests/test_x.py:1: says 'TODO'"
    ]


def test_code_strings_and_everyday_words_are_not_flagged():
    assert scan_words("shared/x.py", 'mode = "debug"\nlevel = "bug"\n') == []
    assert (
        scan_words("shared/x.py", '"""Expiry on an injected clock; a model catalogue."""\n') == []
    )


def test_binary_files_are_skipped(tmp_path):
    root = make_root(tmp_path)
    for name in ("bugs", "harness", ".git", "docs"):
        shutil.rmtree(root / name)
    (root / "services" / "blob.bin").write_bytes(b"\0planted bugs\0")
    assert scan_tree(root, [bug_with("x = 2\n")]) == []


def test_shipped_dockerignore_drops_the_maintainer_folders(tmp_path):
    root = make_root(
        tmp_path, {".dockerignore": ".git\n.venv\nbugs\n/harness/\ninfra\ndocs\nvar\n"}
    )
    copy_shipped(root, tmp_path / "out")
    assert (tmp_path / "out" / ".dockerignore").read_text() == ".git\n.venv\nvar\n"
