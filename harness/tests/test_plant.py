"""Planting edits, reversing them, and the generated solve.sh."""

from __future__ import annotations

import subprocess

import pytest

from harness.catalogue import Bug, Edit
from harness.plant import PlantError, apply_edit, apply_reverse, occurrences, plant, unplant
from harness.solution import render_solve_sh
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root


def bug(bug_id: str, *edits: tuple[str, str, str]) -> Bug:
    return Bug(bug_id, "t", bug_id[0], ("training",), (), (), tuple(Edit(*e) for e in edits))


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_occurrences_counts_overlapping_matches():
    assert occurrences("aaa", "aa") == 2
    assert occurrences("abc", "x") == 0


def test_before_not_found_names_bug_file_and_count():
    with pytest.raises(PlantError, match="M1: 'before' text occurs 0 times in f.py"):
        apply_edit("x = 1\n", Edit("f.py", "y = 2\n", "y = 3\n"), "M1")


def test_before_found_twice_is_refused():
    with pytest.raises(PlantError, match="occurs 2 times"):
        apply_edit("x = 1\nx = 1\n", Edit("f.py", "x = 1\n", "x = 2\n"), "M1")


def test_reverse_of_a_deletion_is_anchored_on_surrounding_lines():
    text = "a\nx = 1\nb\nx = 1\nc\n"
    new, reverse = apply_edit(text, Edit("f.py", "b\n", ""), "M1")
    assert new == "a\nx = 1\nx = 1\nc\n"
    assert occurrences(new, reverse.find) == 1
    assert apply_reverse(new, reverse) == text


def test_reverse_is_widened_when_the_planted_text_already_exists():
    text = "x = 1\ny = 2\n"
    new, reverse = apply_edit(text, Edit("f.py", "y = 2\n", "x = 1\n"), "M1")
    assert reverse.find == "x = 1\nx = 1\n"
    assert apply_reverse(new, reverse) == text


def test_plant_then_unplant_restores_every_byte(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    bugs = [bug("M1", SCALE_EDIT), bug("A1", MEAN_EDIT)]
    reverses = plant(root, bugs)
    assert "v + factor" in (root / "services/calc.py").read_text()
    assert "len(values) + 1" in (root / "services/calc.py").read_text()
    unplant(root, reverses)
    assert snapshot(root) == before


def test_later_bug_may_edit_text_an_earlier_bug_planted(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    second = ("services/calc.py", "    return [v + factor", "    return [v - factor")
    reverses = plant(root, [bug("M1", SCALE_EDIT), bug("M2", second)])
    assert "v - factor" in (root / "services/calc.py").read_text()
    unplant(root, reverses)
    assert snapshot(root) == before


def test_plant_refuses_a_missing_file(tmp_path):
    root = make_root(tmp_path)
    with pytest.raises(PlantError, match="M1: file nowhere.py does not exist"):
        plant(root, [bug("M1", ("nowhere.py", "a", "b"))])


def test_solve_sh_restores_the_tree(tmp_path):
    root = make_root(tmp_path)
    before = snapshot(root)
    reverses = plant(root, [bug("M1", SCALE_EDIT), bug("A1", MEAN_EDIT)])
    script = tmp_path / "solve.sh"
    script.write_text(render_solve_sh(reverses), encoding="utf-8")
    run = subprocess.run(["bash", str(script), str(root)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert snapshot(root) == before


def test_solve_sh_refuses_and_changes_nothing_when_planted_text_is_gone(tmp_path):
    root = make_root(tmp_path)
    reverses = plant(root, [bug("M1", SCALE_EDIT), bug("A1", MEAN_EDIT)])
    calc = root / "services/calc.py"
    calc.write_text(calc.read_text().replace("v + factor", "v * factor"), encoding="utf-8")
    planted = snapshot(root)
    script = tmp_path / "solve.sh"
    script.write_text(render_solve_sh(reverses), encoding="utf-8")
    run = subprocess.run(["bash", str(script), str(root)], capture_output=True, text=True)
    assert run.returncode != 0
    assert "found 0 times in services/calc.py" in run.stderr
    assert snapshot(root) == planted
