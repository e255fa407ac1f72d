"""Unified-diff patches and path checks: applied exactly, all files or none, inside the tree."""

from __future__ import annotations

import difflib
import os

import pytest

from environment.patch import PatchError, apply_patch, parse_patch
from environment.paths import ActionError, safe_path

BODY = "".join(f"line {i}\n" for i in range(1, 21))


def diff(path: str, old: str, new: str) -> str:
    """Return a unified diff of one file from ``old`` to ``new``."""
    lines = difflib.unified_diff(
        old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}"
    )
    return "".join(lines)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg/a.py").write_text(BODY)
    (root / "pkg/b.py").write_text("alpha\nbeta\n")
    return root


def test_a_patch_replaces_lines_in_several_hunks(tree):
    new = BODY.replace("line 2\n", "two\n").replace("line 18\n", "eighteen\nmore\n")
    assert apply_patch(tree, diff("pkg/a.py", BODY, new)) == ["pkg/a.py"]
    assert (tree / "pkg/a.py").read_text() == new


def test_a_hunk_found_a_few_lines_away_still_applies(tree):
    patch = diff("pkg/a.py", BODY, BODY.replace("line 10\n", "ten\n"))
    (tree / "pkg/a.py").write_text("header\nheader\n" + BODY)
    apply_patch(tree, patch)
    assert (tree / "pkg/a.py").read_text() == "header\nheader\n" + BODY.replace(
        "line 10\n", "ten\n"
    )


def test_a_patch_creates_and_deletes_files(tree):
    create = diff("pkg/new.py", "", "x = 1\n").replace("--- a/pkg/new.py", "--- /dev/null")
    delete = diff("pkg/b.py", "alpha\nbeta\n", "").replace("+++ b/pkg/b.py", "+++ /dev/null")
    assert apply_patch(tree, create + delete) == ["pkg/new.py", "pkg/b.py"]
    assert (tree / "pkg/new.py").read_text() == "x = 1\n"
    assert not (tree / "pkg/b.py").exists()


def test_a_file_without_a_final_newline_keeps_it_missing(tree):
    (tree / "pkg/c.py").write_text("a\nb")
    marker = "\\ No newline at end of file\n"
    patch = f"--- a/pkg/c.py\n+++ b/pkg/c.py\n@@ -1,2 +1,2 @@\n a\n-b\n{marker}+c\n{marker}"
    apply_patch(tree, patch)
    assert (tree / "pkg/c.py").read_text() == "a\nc"


def test_a_patch_that_does_not_match_writes_nothing(tree):
    good = diff("pkg/a.py", BODY, BODY.replace("line 1\n", "one\n"))
    stale = diff("pkg/b.py", "gamma\n", "delta\n")
    with pytest.raises(PatchError, match="does not match"):
        apply_patch(tree, good + stale)
    assert (tree / "pkg/a.py").read_text() == BODY


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just prose\n",
        "@@ -1 +1 @@\n-a\n+b\n",
        "--- a/pkg/b.py\n+++ b/pkg/b.py\n@@ -1,2 +1,2 @@\n alpha\n",
        "--- a/pkg/b.py\n+++ b/pkg/b.py\n@@ -1,1 +1,1 @@\n?alpha\n",
    ],
)
def test_a_malformed_patch_is_an_invalid_action(tree, text):
    with pytest.raises(ActionError):
        apply_patch(tree, text)


@pytest.mark.parametrize(
    ("name", "message"),
    [("/etc/passwd", "absolute"), ("../x.py", "'..'"), ("pkg/../../x", "'..'"), ("", "invalid")],
)
def test_paths_outside_the_tree_are_refused(tree, name, message):
    with pytest.raises(ActionError, match=message):
        safe_path(tree, name)
    patch = f"--- a/{name}\n+++ b/{name}\n@@ -1 +1 @@\n-alpha\n+x\n"
    with pytest.raises(ActionError):
        apply_patch(tree, patch)


def test_a_symlink_inside_the_tree_cannot_be_followed(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("alpha\n")
    os.symlink(outside, tree / "link")
    with pytest.raises(ActionError, match="symlink"):
        safe_path(tree, "link/secret.py")
    with pytest.raises(ActionError, match="symlink"):
        apply_patch(tree, diff("link/secret.py", "alpha\n", "owned\n"))
    assert (outside / "secret.py").read_text() == "alpha\n"


def test_headers_keep_their_paths_without_prefixes_or_timestamps():
    patches = parse_patch(
        "--- pkg/a.py\t2024-01-01\n+++ pkg/a.py\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n"
    )
    assert (patches[0].old, patches[0].new) == ("pkg/a.py", "pkg/a.py")
