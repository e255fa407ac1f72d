"""Curriculum selections: tiers from the catalogue, seeded draws, and the manifest record."""

from __future__ import annotations

import json

import pytest

from harness.catalogue import CatalogueError, parse_bug
from harness.cli import main
from harness.curriculum import chain_depth, choose, tier_of
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root, write_bug


def bug(bug_id: str, depends_on: tuple[str, ...] = (), edits: int = 1):
    """Return a catalogue entry with ``edits`` edits of one file."""
    data = {
        "id": bug_id,
        "title": f"entry {bug_id}",
        "category": bug_id[0],
        "services": ["training"],
        "depends_on": list(depends_on),
        "fails": ["tests/unit/x.py::t"],
        "edits": [{"file": "f.py", "before": f"a{i}", "after": f"b{i}"} for i in range(edits)],
    }
    return parse_bug(data)


@pytest.fixture
def catalogue():
    bugs = [
        bug("L1"),
        bug("L2"),
        bug("M1"),
        bug("M2", edits=2),
        bug("A1"),
        bug("A2", depends_on=("A1",)),
        bug("B1", depends_on=("A2", "L1")),
        bug("C1"),
        bug("C2"),
        bug("D1"),
    ]
    return {b.id: b for b in bugs}


def test_chain_depth_follows_the_longest_dependency_chain(catalogue):
    assert chain_depth(catalogue, "A1") == 1
    assert chain_depth(catalogue, "A2") == 2
    assert chain_depth(catalogue, "B1") == 3


def test_tiers_split_setup_local_and_deep_or_coordinated_bugs(catalogue):
    tiers = {b.id: tier_of(catalogue, b) for b in catalogue.values()}
    assert tiers == {
        "L1": "setup",
        "L2": "setup",
        "M1": "1",
        "M2": "2",
        "A1": "1",
        "A2": "2",
        "B1": "2",
        "C1": "1",
        "C2": "1",
        "D1": "1",
    }
    assert [b.id for b in choose(catalogue, "tier:setup").bugs] == ["L1", "L2"]
    assert [b.id for b in choose(catalogue, "tier:2").bugs] == ["M2", "A2", "B1"]


def test_a_seed_names_one_random_selection(catalogue):
    first = choose(catalogue, "random:4", seed=7)
    again = choose(catalogue, "random:4", seed=7)
    assert [b.id for b in first.bugs] == [b.id for b in again.bugs]
    assert len(first.bugs) == 4
    draws = {tuple(b.id for b in choose(catalogue, "random:4", seed=s).bugs) for s in range(20)}
    assert len(draws) > 5


def test_a_random_selection_comes_in_catalogue_order_and_is_recorded(catalogue):
    chosen = choose(catalogue, "random:5", seed=3)
    order = list(catalogue)
    ids = [b.id for b in chosen.bugs]
    assert ids == sorted(ids, key=order.index)
    assert chosen.record == {
        "spec": "random:5",
        "seed": 3,
        "rule": "random.Random(3).sample of 5 from the catalogue",
        "bugs": ids,
    }


def test_a_tier_sample_draws_only_from_the_tier(catalogue):
    for seed in range(10):
        ids = [b.id for b in choose(catalogue, "tier:1:2", seed=seed).bugs]
        assert len(ids) == 2 and set(ids) <= {"M1", "A1", "C1", "C2", "D1"}


def test_named_selections_keep_their_old_meaning(catalogue):
    assert [b.id for b in choose(catalogue, "A2,M1").bugs] == ["M1", "A2"]
    assert choose(catalogue, "none").bugs == []
    assert len(choose(catalogue, "all").bugs) == len(catalogue)


@pytest.mark.parametrize(
    "spec", ["tier:3", "tier:", "random:0", "random:x", "random:11", "tier:setup:3", "Z9"]
)
def test_bad_specs_are_refused_with_a_message(catalogue, spec):
    with pytest.raises(CatalogueError, match=r"\S"):
        choose(catalogue, spec)


def test_build_records_the_selection_in_the_manifest(tmp_path, capsys):
    root = make_root(tmp_path)
    write_bug(root, "M1", [SCALE_EDIT])
    write_bug(root, "M2", [MEAN_EDIT])
    out = tmp_path / "out"
    args = ["--root", str(root), "build", "--out", str(out), "--bugs", "random:1", "--seed", "5"]
    assert main(args) == 0
    manifest = json.loads((tmp_path / "out.solution" / "manifest.json").read_text())
    selection = manifest["selection"]
    assert selection["spec"] == "random:1" and selection["seed"] == 5
    assert manifest["bugs"] == selection["bugs"] and len(manifest["bugs"]) == 1
    assert main(args) == 0
    rebuilt = json.loads((tmp_path / "out.solution" / "manifest.json").read_text())
    assert rebuilt["bugs"] == manifest["bugs"]
    assert "selection: random.Random(5).sample" in capsys.readouterr().out


def test_build_refuses_an_unknown_tier(tmp_path, capsys):
    root = make_root(tmp_path)
    write_bug(root, "M1", [SCALE_EDIT])
    assert (
        main(["--root", str(root), "build", "--out", str(tmp_path / "o"), "--bugs", "tier:9"]) == 2
    )
    assert "unknown tier" in capsys.readouterr().err
