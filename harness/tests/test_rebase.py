"""harness rebase: carry bug edits across a change of main; the TOML rewrite and overlap report."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from harness.catalogue import Edit, load_catalogue
from harness.cli import main
from harness.overlap import overlap_report
from harness.tests.factories import MEAN_EDIT, make_root, write_bug
from harness.toml_edits import rewrite_edits

SCALE_BEFORE = '''def scale(values, factor):
    """Return every value multiplied by factor."""
    return [v * factor for v in values]
'''
SCALE_AFTER = SCALE_BEFORE.replace("v * factor", "v + factor")
SCALE_EDIT = ("services/calc.py", SCALE_BEFORE, SCALE_AFTER)


def git(root, *args: str) -> str:
    command = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    return subprocess.run([*command, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    root = make_root(tmp_path)
    (root / ".git/config").unlink()
    (root / ".git").rmdir()
    write_bug(root, "M1", [SCALE_EDIT], hint="Scaling is off.")
    write_bug(root, "A1", [MEAN_EDIT])
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def change_main(root, old: str, new: str) -> None:
    path = root / "services/calc.py"
    path.write_text(path.read_text().replace(old, new))
    git(root, "commit", "-qam", "refactor")


def test_rebase_carries_an_edit_across_a_refactor(repo, capsys):
    a1 = (repo / "bugs/A1.toml").read_bytes()
    m1 = (repo / "bugs/M1.toml").read_text()
    change_main(repo, "def scale(values, factor):", "def scale(values: list, factor: float):")
    assert main(["--root", str(repo), "rebase"]) == 0
    assert "M1: rewrote 1 edit(s)" in capsys.readouterr().out
    assert (repo / "bugs/A1.toml").read_bytes() == a1
    new = (repo / "bugs/M1.toml").read_text()
    head, tail = m1.split("[[edits]]")[0], new.split("[[edits]]")[0]
    assert head == tail  # metadata bytes untouched
    edit = tomllib.loads(new)["edits"][0]
    assert edit["before"].startswith("def scale(values: list, factor: float):\n")
    assert edit["after"].endswith("    return [v + factor for v in values]\n")
    assert main(["--root", str(repo), "verify", "--quick"]) in (0, 1)
    assert "[PASS] gate 1:" in capsys.readouterr().out


def test_rebase_refuses_a_conflict_and_changes_nothing(repo, capsys):
    before = (repo / "bugs/M1.toml").read_bytes()
    change_main(repo, "v * factor", "factor * v")
    assert main(["--root", str(repo), "rebase"]) == 1
    out = capsys.readouterr().out
    assert "M1: refused, nothing changed: M1 in services/calc.py: the merge conflicts" in out
    assert "<<<<<<< main now" in out and "return [factor * v for v in values]" in out
    assert (repo / "bugs/M1.toml").read_bytes() == before


def test_dry_run_shows_the_rewrite_without_writing(repo, capsys):
    before = (repo / "bugs/M1.toml").read_bytes()
    change_main(repo, "def scale(values, factor):", "def scale(values, factor=1):")
    assert main(["--root", str(repo), "rebase", "M1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "M1: would rewrite 1 edit(s)" in out and "+def scale(values, factor=1):" in out
    assert (repo / "bugs/M1.toml").read_bytes() == before


def test_explicit_base_and_untouched_bugs(repo, capsys):
    base = git(repo, "rev-parse", "HEAD").strip()
    change_main(repo, "def mean(values):", "def mean(values: list):")
    assert main(["--root", str(repo), "rebase", "--base", base]) == 0
    out = capsys.readouterr().out
    assert "A1" not in out and "M1" not in out  # both still apply: nothing to do


def test_rewrite_edits_keeps_other_tables_and_adds_or_drops_blocks():
    text = (
        'id = "M1"\n# a comment\n\n[[edits]]\nfile = "a.py"\nbefore = """\nx\n"""\n'
        "after = '''\ny\n'''\n\n[[edits]]\nfile = \"b.py\"\nbefore = 'p'\nafter = 'q'\n"
    )
    old = [Edit("a.py", "x\n", "y\n"), Edit("b.py", "p", "q")]
    changed = rewrite_edits(text, old, [Edit("a.py", "x\n", "y\n"), Edit("b.py", "p'", "q")])
    assert changed.split("[[edits]]")[:2] == text.split("[[edits]]")[:2]
    assert tomllib.loads(changed)["edits"][1]["before"] == "p'"
    more = [*old, Edit("c.py", "'''", "z")]
    assert [e["file"] for e in tomllib.loads(rewrite_edits(text, old, more))["edits"]] == [
        "a.py",
        "b.py",
        "c.py",
    ]
    fewer = rewrite_edits(text, old, old[:1])
    assert fewer.startswith(text.split('[[edits]]\nfile = "b.py"')[0])
    assert len(tomllib.loads(fewer)["edits"]) == 1


def test_overlap_report_names_crowded_files_and_nearby_edits(tmp_path):
    root = make_root(tmp_path)
    write_bug(root, "M1", [("services/calc.py", "v * factor", "v + factor")])
    write_bug(root, "A1", [MEAN_EDIT])
    write_bug(root, "A2", [("services/calc.py", "v + factor for", "v - factor for")])
    report = overlap_report(load_catalogue(root / "bugs"), root, crowded=3, near=5)
    assert "crowded: services/calc.py has 3 edits of 3 bugs" in report
    assert any(line.startswith("near: M1 and A1 in services/calc.py") for line in report)
    assert "on top: A2's before overlaps M1's after" in report
