"""Score built trees against main's pristine tests, and run the build-score-solve demo."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from environment.report import SuiteReport
from environment.runner import RunLimits
from environment.scorer import (
    build_results,
    format_table,
    format_tree_changes,
    reward_of,
    score_tree,
)
from harness.build import build_environment, solution_dir
from harness.catalogue import load_catalogue
from harness.collect import collect_main
from harness.heldout import write_bundle
from harness.manifest import manifest_extra
from harness.trees import diff_trees


def results_path(tree: Path) -> Path:
    """Return the default results file of a tree: ``<tree>.results.json``."""
    return tree.with_name(tree.name + ".results.json")


def score(
    root: Path, tree: Path, limits: RunLimits | None = None, heldout: bool = False
) -> dict[str, Any]:
    """Score ``tree`` (sanitized in place) and return its results document.

    With ``heldout`` the catalogue's variants run after the suite (a bundle written to a temp
    folder outside the tree) and the results gain their ``heldout`` section.
    """
    expected = collect_main(root)
    with tempfile.TemporaryDirectory(prefix="synapse-heldout-") as scratch:
        bundle = None
        if heldout:
            bugs = list(load_catalogue(root / "bugs").values())
            bundle = write_bundle(root, bugs, Path(scratch) / "bundle")
        try:
            return score_tree(tree, root, expected, limits, bundle)
        except (OSError, shutil.Error) as exc:
            return build_results(expected, SuiteReport(problems=[f"cannot score: {exc}"]))


def report(results: dict[str, Any], previous: dict[str, Any] | None, title: str) -> dict[str, Any]:
    """Print a results document's table and reward JSON; return the reward."""
    reward = reward_of(results, previous)
    print(f"== {title}")
    if results.get("removed"):
        print("removed before scoring: " + ", ".join(results["removed"]))
    if reward.get("reason"):
        print(f"reason: {reward['reason']}")
    written = format_tree_changes(results)
    if written:
        print(written)
    print(format_table(reward))
    heldout = results.get("heldout")
    if heldout is not None:
        failing = sorted(t for t, o in heldout["variants"].items() if o != "passed")
        print(f"held-out variants: pass rate {heldout['heldout_pass_rate']}, failing {failing}")
        print(
            "suspected special cases: " + (", ".join(heldout["suspected_special_cases"]) or "none")
        )
    print(json.dumps(reward, sort_keys=True))
    return reward


def score_command(args: argparse.Namespace) -> int:
    """Score DIR, write its results JSON and print the table and reward."""
    tree = Path(args.dir).resolve()
    results = score(args.root, tree, heldout=args.heldout)
    out = args.json or results_path(tree)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    previous = json.loads(args.previous.read_text("utf-8")) if args.previous else None
    report(results, previous, f"score of {tree}")
    print(f"results: {out}")
    return 0


def demo_command(args: argparse.Namespace) -> int:
    """Build every bug into DIR, score it, solve it, and score it again."""
    catalogue = load_catalogue(args.root / "bugs")
    bugs = list(catalogue.values())
    built = build_environment(args.root, args.out, bugs, manifest_extra(args.root, catalogue, bugs))
    before = score(args.root, built.path)
    first = report(before, None, f"buggy tree ({len(bugs)} bugs)")
    solve = solution_dir(built.path) / "solve.sh"
    subprocess.run(["bash", str(solve), str(built.path)], check=True)
    differences = _differences_from_main(args.root, built.path)
    print(f"solved tree vs main: {'identical' if not differences else differences[:5]}")
    after = score(args.root, built.path)
    second = report(after, None, "after solve.sh")
    print(f"reward: {first['reward']} -> {second['reward']}")
    return 0 if second["reward"] == 1.0 and not differences else 1


def _differences_from_main(root: Path, solved: Path) -> list[str]:
    """Return the files where a solved tree differs from a no-bug build of main."""
    catalogue = load_catalogue(root / "bugs")
    with tempfile.TemporaryDirectory(prefix="synapse-main-") as scratch:
        clean = build_environment(
            root, Path(scratch) / "main", [], manifest_extra(root, catalogue, [])
        )
        return diff_trees(clean.path, solved)
