"""``harness curve``: fix the bugs one at a time from the all-bugs tree and score every step.

Step 0 is the all-bugs tree; step k has the first k bugs of the fix order fixed (the others
planted, in catalogue order). Every step is an independent tree, so the steps run in parallel
(``--jobs``) and come from the probe cache when an identical tree was run before. Each run is
scored the way ``score`` scores a tree (the scorer's results document and the exact reward of
the brief, service and ML bonuses included; no previous results, so no regression penalty).
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from environment.scorer import build_results, reward_of
from harness.catalogue import Bug, load_catalogue
from harness.collect import collect_main
from harness.probe import Probe, ProbeResult, describe_problems, probe_many
from harness.shape import (
    IMPORT_BLOCKER,
    Expected,
    ShapeFigures,
    all_but_blocker,
    fix_order,
    free_bonuses,
    outside_setup,
    step_trees,
)

CSV_FIELDS = ("step", "bug", "passed", "weighted_pass_rate", "reward")


class CurveError(Exception):
    """A step's tree could not be built or its suite could not run."""


@dataclass(frozen=True)
class CurveRow:
    """One step of the curve: the bug fixed at that step ('' at step 0) and the tree's score."""

    step: int
    bug: str
    passed: int
    weighted_pass_rate: float
    reward: float


@dataclass
class Curve:
    """A measured curve, gate 8's figures, files runs wrote inside their trees, run problems."""

    rows: list[CurveRow]
    figures: ShapeFigures
    tree_changes: dict[str, list[str]]
    problems: dict[str, list[str]]


def label(result: ProbeResult) -> str:
    """Name a run by its planted bugs: up to three IDs, else their count (``42 bugs``)."""
    if len(result.bugs) > 3:
        return f"{len(result.bugs)} bugs"
    return ",".join(result.bugs) or "main"


def _key(bugs: list[Bug]) -> frozenset[str]:
    """Return the identity of a planted bug set."""
    return frozenset(b.id for b in bugs)


def run_trees(
    root: Path, bug_sets: list[list[Bug]], jobs: int | None, cache: bool
) -> dict[frozenset[str], ProbeResult]:
    """Run the whole suite once on each distinct bug set (cached when the tree is unchanged).

    A suite that cannot start or collect is a result like any other (the scorer gives it 0.0
    with a reason); only a bug set that cannot be planted stops the curve.
    """
    distinct: dict[frozenset[str], list[Bug]] = {}
    for bugs in bug_sets:
        distinct.setdefault(_key(bugs), bugs)
    probes = [Probe(bugs) for bugs in distinct.values()]
    started = time.monotonic()

    def report(index: int, result: ProbeResult) -> None:
        source = "cached" if result.cached else f"{time.monotonic() - started:.0f} s"
        passed = len(result.report.passing)
        print(
            f"run {index + 1}/{len(probes)} ({label(result)}): {passed} passed, {source}",
            flush=True,
        )

    results = probe_many(root, probes, jobs, cache=cache, done=report)
    for result in results:
        if result.error:
            raise CurveError(f"tree with {label(result)}: {result.error}")
    return dict(zip(distinct, results, strict=True))


def score_run(expected: Expected, result: ProbeResult) -> dict[str, Any]:
    """Return the reward document of a run, computed by the scorer from its results."""
    return reward_of(build_results(expected, result.report), None)


def measure(
    root: Path,
    catalogue: dict[str, Bug],
    order: list[Bug],
    jobs: int | None = None,
    cache: bool = True,
) -> Curve:
    """Run every step of the curve plus gate 8's two reference trees, and score them."""
    expected = collect_main(root)
    steps = step_trees(catalogue, order)
    blocker = all_but_blocker(catalogue) if IMPORT_BLOCKER in catalogue else None
    references = [outside_setup(catalogue), *([blocker] if blocker is not None else [])]
    runs = run_trees(root, steps + references, jobs, cache)
    scores = {key: score_run(expected, result) for key, result in runs.items()}
    rows = []
    for step, bugs in enumerate(steps):
        reward = scores[_key(bugs)]
        rows.append(
            CurveRow(
                step=step,
                bug=order[step - 1].id if step else "",
                passed=int(reward["passed"]),
                weighted_pass_rate=float(reward["weighted_pass_rate"]),
                reward=float(reward["reward"]),
            )
        )
    recorded = {b.id: set(b.fails) for b in catalogue.values()}
    figures = ShapeFigures(
        all_but_l1=None if blocker is None else float(scores[_key(blocker)]["weighted_pass_rate"]),
        outside_l=float(scores[_key(references[0])]["weighted_pass_rate"]),
        rewards=[row.reward for row in rows],
        free=free_bonuses(catalogue, expected, recorded),
    )
    written = {label(r): r.report.tree_changes for r in runs.values() if r.report.tree_changes}
    problems = {label(r): describe_problems(r) for r in runs.values() if describe_problems(r)}
    return Curve(rows, figures, written, problems)


def write_csv(rows: list[CurveRow], path: Path) -> None:
    """Write the curve's rows as CSV with a header."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        for row in rows:
            writer.writerow(
                [row.step, row.bug, row.passed, f"{row.weighted_pass_rate:.6f}", f"{row.reward}"]
            )


def plot(rows: list[CurveRow], path: Path, title: str) -> None:
    """Draw reward and weighted pass rate against the step, the fixed bug under each step."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    steps = [row.step for row in rows]
    figure, axes = pyplot.subplots(figsize=(max(8.0, 0.28 * len(rows) + 2), 4.8))
    axes.step(steps, [r.reward for r in rows], where="post", marker="o", label="reward")
    axes.plot(steps, [r.weighted_pass_rate for r in rows], marker=".", label="weighted pass rate")
    axes.set_xticks(steps)
    axes.set_xticklabels(["all bugs", *(row.bug for row in rows[1:])], rotation=90, fontsize=7)
    axes.set_xlabel("bug fixed at this step")
    axes.set_ylim(0, 1.05)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def print_curve(curve: Curve) -> None:
    """Print the rows, the files runs wrote inside their trees, and gate 8's figures."""
    print(f"{'step':>4}  {'fixed':<6}{'passed':>7}{'weighted':>10}{'reward':>8}")
    for row in curve.rows:
        print(
            f"{row.step:>4}  {row.bug or '-':<6}{row.passed:>7}"
            f"{row.weighted_pass_rate:>10.4f}{row.reward:>8.2f}"
        )
    for name, written in sorted(curve.tree_changes.items()):
        print(f"the run with {name} wrote inside its tree: {', '.join(written)}")
    for name, problems in sorted(curve.problems.items()):
        print(f"the run with {name} (scored as the scorer scores it): {'; '.join(problems)[:300]}")
    print("gate 8 (brief, section 2):")
    for line in curve.figures.lines():
        print(f"  {line}")
    misses = curve.figures.problems()
    print(f"gate 8 {'holds' if not misses else 'does not hold: ' + '; '.join(misses)}")


def curve_command(args: argparse.Namespace) -> int:
    """Measure the curve, write curve.csv and curve.png and print gate 8's figures.

    Exit 0 whether or not gate 8 holds: this command measures, ``verify`` judges.
    """
    catalogue = load_catalogue(args.root / "bugs")
    order = fix_order(catalogue, args.order, args.seed)
    print(f"fix order ({args.order}): {' '.join(b.id for b in order)}")
    curve = measure(args.root, catalogue, order, args.jobs, cache=not args.no_cache)
    curve.figures.order = args.order
    out = Path(args.out or args.root / "build" / "curve")
    out.mkdir(parents=True, exist_ok=True)
    write_csv(curve.rows, out / "curve.csv")
    title = f"{len(catalogue)} bugs fixed in {args.order} order"
    if args.order == "random":
        title += f" (seed {args.seed})"
    plot(curve.rows, out / "curve.png", title)
    print_curve(curve)
    print(f"wrote {out / 'curve.csv'} and {out / 'curve.png'}")
    return 0
