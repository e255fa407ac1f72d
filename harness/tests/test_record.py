"""Rewriting the fails array of a bug file without touching anything else."""

from __future__ import annotations

import tomllib

import pytest

from harness.catalogue import CatalogueError
from harness.record import format_fails, record_fails, replace_fails
from harness.tests.factories import SCALE_EDIT, bug_text

IDS = ["tests/b.py::test_y[a]]", "tests/a.py::test_x"]


def test_only_the_fails_array_changes():
    text = bug_text("M1", [SCALE_EDIT], hint="Look at ] and [ here")
    new = replace_fails(text, IDS)
    start = text.index("fails = ")
    assert new[:start] == text[:start]
    assert new.endswith(text[start + len("fails = []") :])
    assert tomllib.loads(new)["fails"] == sorted(IDS)


def test_existing_multiline_array_with_brackets_and_comments_is_replaced():
    text = 'id = "M1"\nfails = [\n  "t::a[x]",  # first ]\n  \'t::b]\',\n]\nhint = "h"\n'
    new = replace_fails(text, ["t::c"])
    assert new == 'id = "M1"\nfails = [\n    "t::c",\n]\nhint = "h"\n'


def test_fails_is_added_before_the_first_table_when_absent():
    text = 'id = "M1"\n\n[[edits]]\nfile = "f"\n'
    assert tomllib.loads(replace_fails(text, ["t::a"]))["fails"] == ["t::a"]
    assert tomllib.loads(replace_fails(text, ["t::a"]))["edits"] == [{"file": "f"}]


def test_format_sorts_dedupes_and_writes_one_id_per_line():
    assert format_fails(["b", "a", "b"]) == '[\n    "a",\n    "b",\n]'
    assert format_fails([]) == "[]"


def test_record_reports_whether_the_file_changed(tmp_path):
    path = tmp_path / "M1.toml"
    path.write_text(bug_text("M1", [SCALE_EDIT]), encoding="utf-8")
    assert record_fails(path, IDS) is True
    assert record_fails(path, list(reversed(IDS))) is False


def test_fails_that_is_not_an_array_is_refused():
    with pytest.raises(CatalogueError, match="not an array"):
        replace_fails('fails = "x"\n', ["a"])
