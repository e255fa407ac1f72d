"""Score a tree: sanitize it, run the pristine suite, and turn the report into results.

Usage: python -m environment.scorer TREE --pristine DIR --expected EXPECTED.json
           --out RESULTS.json [--previous PREVIOUS.json] [--reward-out REWARD.json]
           [--heldout BUNDLE]

EXPECTED.json maps each expected test ID to {"category", "service"}. The reward is always
written, 0.0 with a reason when the suite cannot run. Files the run created, modified or deleted
inside TREE are listed in the results (``tree_changes``) and printed; they are reported, not
scored, since the code under test may be what writes them.

With ``--heldout BUNDLE`` (see ``environment.heldout``) the bundle's variants run after the
visible suite against the same tree; the results and the reward JSON then also carry
``heldout_pass_rate`` and ``suspected_special_cases``. The reward itself does not change.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from environment.heldout import BundleError, load_groups, run_variants, summarise, variant_ids
from environment.report import SuiteReport
from environment.reward import compute_reward, parse_results
from environment.runner import RunLimits, default_workers, run_suite
from environment.sanitize import sanitize


def build_results(expected: dict[str, dict[str, Any]], report: SuiteReport) -> dict[str, Any]:
    """Return the results document: every expected test with its outcome (missing if not run)."""
    problems = list(report.problems)
    if report.collect_errors:
        problems += [f"collection error in {nodeid}" for nodeid in sorted(report.collect_errors)]
    reason = None
    if report.tampered:
        reason = "pytest internals or the report were tampered with: " + ", ".join(report.tampered)
    elif not report.outcomes:
        reason = "the suite could not be collected or run: " + ("; ".join(problems) or "no tests")
    tests = []
    for test_id, info in sorted(expected.items()):
        outcome = report.outcomes.get(test_id, "missing")
        if report.tampered:
            outcome = "failed"
        tests.append({"id": test_id, **info, "outcome": outcome})
    return {
        "tests": tests,
        "reason": reason,
        "problems": problems,
        "tampered": report.tampered,
        "tree_changes": report.tree_changes,
    }


def score_tree(
    tree: Path,
    pristine: Path,
    expected: dict[str, dict[str, Any]],
    limits: RunLimits | None = None,
    heldout: Path | None = None,
    tests: list[str] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Sanitize ``tree`` in place, run its suite and return the results document.

    With a variant bundle ``heldout``, its variants run afterwards in a second session against
    the same tree and the document gains a ``heldout`` section. ``tests`` (node IDs, files or
    folders) runs only those; ``expected`` should then hold only the tests they name, or the
    others count as missing. The whole suite runs in ``workers`` processes (default: two on a
    machine with two cores, see ``environment.runner.run_suite``); a list of ``tests`` in one.
    """
    if not tree.is_dir():
        raise FileNotFoundError(f"{tree} is not a directory")
    removed = sanitize(tree, pristine)
    if tests:
        workers = 1
    elif workers is None:
        workers = default_workers()
    report = run_suite(tree, list(tests or []), limits, workers=workers)
    results = build_results(expected, report)
    results["removed"] = removed
    if heldout is not None:
        results["heldout"] = score_heldout(tree, heldout, results, limits)
    return results


def score_heldout(
    tree: Path, bundle: Path, results: dict[str, Any], limits: RunLimits | None = None
) -> dict[str, Any]:
    """Run a bundle's variants in ``tree`` and return the held-out section of the results."""
    outcomes = {t["id"]: t["outcome"] for t in results["tests"]}
    groups: dict[str, dict[str, list[str]]] = {}
    try:
        groups = load_groups(bundle)
        report = run_variants(tree, bundle, variant_ids(groups), limits)
    except (BundleError, OSError, shutil.Error) as exc:
        report = SuiteReport(problems=[f"cannot run the variants: {exc}"])
    return summarise(groups, outcomes, report)


def format_table(reward: dict[str, Any]) -> str:
    """Return the per-category table of a reward document."""
    lines = [f"{'category':<22}{'tests':>7}{'passed':>8}{'weight':>8}{'weighted':>10}"]
    for name, row in reward["categories"].items():
        lines.append(
            f"{name:<22}{row['tests']:>7}{row['passed']:>8}{row['weight']:>8.1f}"
            f"{row['weighted_contribution']:>10.4f}"
        )
    lines.append(
        f"{'total':<22}{reward['tests']:>7}{reward['passed']:>8}{'':>8}"
        f"{reward['weighted_pass_rate']:>10.4f}"
    )
    return "\n".join(lines)


def format_tree_changes(results: dict[str, Any]) -> str | None:
    """Return the line reporting files a run wrote inside the tree, or None when it wrote none."""
    written: list[str] = results.get("tree_changes") or []
    if not written:
        return None
    return f"the suite run changed {len(written)} path(s) inside the tree: " + ", ".join(written)


def reward_of(results: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Return the reward document of results (with the run's reason attached)."""
    prior = parse_results(previous) if previous is not None else None
    reward = compute_reward(parse_results(results), prior)
    reward["reason"] = results.get("reason")
    heldout = results.get("heldout")
    if heldout is not None:
        reward["heldout_pass_rate"] = heldout["heldout_pass_rate"]
        reward["suspected_special_cases"] = heldout["suspected_special_cases"]
    return reward


def main(argv: list[str] | None = None) -> int:
    """Score a tree from the command line."""
    parser = argparse.ArgumentParser(prog="python -m environment.scorer", description=__doc__)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--pristine", type=Path, required=True)
    parser.add_argument("--expected", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--previous", type=Path)
    parser.add_argument("--reward-out", type=Path)
    parser.add_argument("--heldout", type=Path, help="bundle of verifier-only test variants")
    args = parser.parse_args(argv)
    expected = json.loads(args.expected.read_text(encoding="utf-8"))
    bundle = args.heldout.resolve() if args.heldout else None
    try:
        results = score_tree(args.tree.resolve(), args.pristine.resolve(), expected, None, bundle)
    except (OSError, shutil.Error) as exc:
        results = build_results(expected, SuiteReport(problems=[f"cannot score: {exc}"]))
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    previous = json.loads(args.previous.read_text("utf-8")) if args.previous else None
    reward = reward_of(results, previous)
    written = format_tree_changes(results)
    if written:
        print(written)
    print(format_table(reward))
    print(json.dumps(reward, sort_keys=True))
    if args.reward_out:
        args.reward_out.write_text(json.dumps(reward, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
