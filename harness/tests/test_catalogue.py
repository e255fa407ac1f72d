"""Loading, validating and ordering the bug catalogue."""

from __future__ import annotations

import pytest

from harness.catalogue import CatalogueError, load_bug, load_catalogue, select, sort_key
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, bug_text, make_root, write_bug


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


def test_loads_a_bug_with_its_edits(root):
    path = write_bug(root, "M3", [SCALE_EDIT], fails=["tests/a.py::t"], hint="Scaled oddly.")
    bug = load_bug(path)
    assert (bug.id, bug.category, bug.services, bug.fails) == (
        "M3",
        "M",
        ("training",),
        ("tests/a.py::t",),
    )
    assert bug.hint == "Scaled oddly."
    assert bug.edits[0].before == SCALE_EDIT[1]


def test_catalogue_is_in_category_then_number_order(root):
    for bug_id in ("K1", "A10", "A2", "M1", "L3", "B1"):
        write_bug(root, bug_id, [SCALE_EDIT])
    assert list(load_catalogue(root / "bugs")) == ["L3", "M1", "A2", "A10", "B1", "K1"]


def test_sort_key_rejects_non_ids():
    with pytest.raises(CatalogueError, match="not a bug ID"):
        sort_key("Z1")


def test_missing_key_is_named(root):
    path = root / "bugs" / "M1.toml"
    path.write_text(bug_text("M1", [SCALE_EDIT]).replace("fails = []\n", ""), encoding="utf-8")
    with pytest.raises(CatalogueError, match="M1.toml: missing key\\(s\\) fails"):
        load_bug(path)


def test_category_must_match_the_id(root):
    path = write_bug(root, "M1", [SCALE_EDIT], category="A")
    with pytest.raises(CatalogueError, match="does not match the ID"):
        load_bug(path)


def test_file_name_must_match_the_id(root):
    path = root / "bugs" / "M2.toml"
    path.write_text(bug_text("M1", [SCALE_EDIT]), encoding="utf-8")
    with pytest.raises(CatalogueError, match="file name does not match"):
        load_bug(path)


def test_a_bug_needs_edits(root):
    path = root / "bugs" / "M1.toml"
    path.write_text(bug_text("M1", []) + "edits = []\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="at least one"):
        load_bug(path)
    path.write_text(bug_text("M1", []), encoding="utf-8")
    with pytest.raises(CatalogueError, match="missing key\\(s\\) edits"):
        load_bug(path)


def test_an_edit_that_changes_nothing_is_refused(root):
    path = write_bug(root, "M1", [("services/calc.py", "x\n", "x\n")])
    with pytest.raises(CatalogueError, match="changes nothing"):
        load_bug(path)


def test_invalid_toml_is_reported(root):
    path = root / "bugs" / "M1.toml"
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="invalid TOML"):
        load_bug(path)


def test_select_by_spec(root):
    for bug_id in ("M1", "A1", "L1"):
        write_bug(root, bug_id, [MEAN_EDIT])
    catalogue = load_catalogue(root / "bugs")
    assert [b.id for b in select(catalogue, "all")] == ["L1", "M1", "A1"]
    assert select(catalogue, "none") == []
    assert [b.id for b in select(catalogue, "A1,L1")] == ["L1", "A1"]
    with pytest.raises(CatalogueError, match="unknown bug ID\\(s\\): Q9"):
        select(catalogue, "A1,Q9")


def test_files_starting_with_underscore_are_not_bugs(root):
    (root / "bugs" / "_notes.toml").write_text("x = 1\n", encoding="utf-8")
    assert load_catalogue(root / "bugs") == {}
