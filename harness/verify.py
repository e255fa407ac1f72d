"""Check the catalogue quality gates of the brief and print a gate-by-gate report."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment.reward import compute_reward, parse_results
from environment.scorer import build_results
from harness.build import build_environment, build_tree, solution_dir
from harness.catalogue import Bug, CatalogueError, load_catalogue
from harness.collect import CollectError, collect_main
from harness.leaks import hint_words, scan_tree
from harness.manifest import manifest_extra, read_all_bugs_passing
from harness.plant import PlantError
from harness.probe import ProbeResult, describe_problems, new_failures, probe_many
from harness.schema import (
    catalogue_info,
    check_brief,
    check_edits_alone,
    check_metadata,
    known_services,
)

RUNS = 3


@dataclass
class Gate:
    """One gate's verdict."""

    name: str
    problems: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether the gate holds."""
        return not self.problems


def diff_trees(left: Path, right: Path) -> list[str]:
    """Return the files that differ between two trees (missing, extra or changed)."""
    files = {p.relative_to(left).as_posix() for p in left.rglob("*") if p.is_file()}
    other = {p.relative_to(right).as_posix() for p in right.rglob("*") if p.is_file()}
    problems = [f"{f}: only in the solved tree" for f in sorted(other - files)]
    problems += [f"{f}: missing from the solved tree" for f in sorted(files - other)]
    problems += [
        f"{f}: differs from main"
        for f in sorted(files & other)
        if (left / f).read_bytes() != (right / f).read_bytes()
    ]
    return problems


def _reachable(bugs: dict[str, Bug], start: str) -> set[str]:
    """Return every bug that ``start`` depends on, directly or through others."""
    seen: set[str] = set()
    todo = list(bugs[start].depends_on) if start in bugs else []
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += bugs[current].depends_on if current in bugs else []
    return seen


def implied_dependencies(
    bugs: dict[str, Bug], fails: dict[str, set[str]]
) -> tuple[list[str], list[str]]:
    """Return (violations of declared depends_on, undeclared implied dependencies)."""
    violations, implied = [], []
    everything = set().union(*fails.values()) if fails else set()
    blockers = {b for b, theirs in fails.items() if everything and theirs >= everything}
    implied += [f"{b} blocks every test the catalogue breaks" for b in sorted(blockers)]
    for bug in bugs.values():
        mine = fails.get(bug.id, set())
        for dep in bug.depends_on:
            outside = mine - fails.get(dep, set())
            if dep in bugs and outside:
                violations.append(
                    f"{bug.id} depends on {dep}, but {len(outside)} of its tests "
                    f"pass with {dep} alone, e.g. {sorted(outside)[0]}"
                )
        for other, theirs in fails.items():
            if other in blockers or other == bug.id or other in _reachable(bugs, bug.id):
                continue
            if mine and mine <= theirs:
                implied.append(f"{bug.id} behaves as depending on {other} (undeclared)")
    return violations, implied


def static_gates(root: Path, catalogue: dict[str, Bug], expected: set[str] | None) -> list[Gate]:
    """Run the gates that need no suite run: schema, 1, 5 (recorded), 6 and 7 (static)."""
    schema = Gate("schema: metadata, services, dependencies, fails, brief constraints")
    schema.problems += check_metadata(catalogue, known_services(root), expected)
    schema.problems += check_brief(catalogue)
    schema.info += catalogue_info(catalogue)
    bugs = list(catalogue.values())
    gate1 = Gate("1: every edit applies exactly once; all apply together in catalogue order")
    gate1.problems += check_edits_alone(root, catalogue)
    gate5 = Gate("5: declared depends_on agrees with recorded fails")
    recorded = {b.id: set(b.fails) for b in bugs}
    gate5.problems, gate5.info = implied_dependencies(catalogue, recorded)
    gate6 = Gate("6: leak check of the built tree")
    gate7 = Gate("7: build all, solve.sh, tree identical to main")
    with tempfile.TemporaryDirectory(prefix="synapse-verify-") as scratch:
        base = Path(scratch)
        try:
            built = build_environment(root, base / "env", bugs, {})
        except PlantError as exc:
            gate1.problems.append(f"all together: {exc}")
            return [schema, gate1, gate5]
        gate6.problems += scan_tree(built.path, bugs)
        gate6.problems += [finding for bug in bugs for finding in hint_words(bug)]
        build_tree(root, base / "main", [])
        solve = solution_dir(built.path) / "solve.sh"
        run = subprocess.run(["bash", str(solve), str(built.path)], capture_output=True, text=True)
        if run.returncode != 0:
            gate7.problems.append(f"solve.sh failed: {run.stderr.strip() or run.stdout.strip()}")
        else:
            gate7.problems += diff_trees(base / "main", built.path)
    return [schema, gate1, gate5, gate6, gate7]


def _outcome_key(result: ProbeResult) -> dict[str, str]:
    """Return a run's outcomes, with run-level problems folded in."""
    return dict(result.report.outcomes) | {f"!{p}": "" for p in describe_problems(result)}


def suite_gates(
    root: Path,
    catalogue: dict[str, Bug],
    expected: dict[str, dict[str, Any]],
    log_dir: Path | None = None,
) -> list[Gate]:
    """Run the gates that need suite runs: 2, 3, 4 and 5 (fresh)."""
    bugs = list(catalogue.values())
    sets: list[list[Bug]] = [[]] * RUNS + [bugs] * RUNS + [[b] for b in bugs]
    results = probe_many(root, sets, log_dir=log_dir)
    mains, alls, singles = results[:RUNS], results[RUNS : 2 * RUNS], results[2 * RUNS :]
    gate2 = Gate("2: main passes 100%; all-bugs tree below 10% with its recorded passing set")
    missing = sorted(set(expected) - set(mains[0].report.passing))
    gate2.problems += [f"main: {t} does not pass" for t in missing[:20]]
    gate2.problems += [f"main: {p}" for p in describe_problems(mains[0])]
    reward = compute_reward(parse_results(build_results(expected, alls[0].report)))
    gate2.info.append(
        f"all bugs: weighted pass rate {reward['weighted_pass_rate']:.4f}, "
        f"reward {reward['reward']}"
    )
    if reward["weighted_pass_rate"] >= 0.10 or reward["reward"] != 0.0:
        gate2.problems.append("all bugs: weighted pass rate must be below 10% with reward 0.0")
    recorded = read_all_bugs_passing(root, catalogue)
    if recorded is None:
        gate2.problems.append("all bugs: no current passing set recorded (run 'record --all')")
    elif recorded != alls[0].report.passing:
        gate2.problems.append("all bugs: passing set differs from bugs/_all_bugs_passing.json")
    gate3 = Gate("3: each bug alone fails exactly its recorded fails set")
    fresh: dict[str, set[str]] = {}
    for bug, result in zip(bugs, singles, strict=True):
        fresh[bug.id] = set(new_failures(result, mains[0]))
        if result.error or not fresh[bug.id] or fresh[bug.id] != set(bug.fails):
            extra = sorted(fresh[bug.id] - set(bug.fails))
            lost = sorted(set(bug.fails) - fresh[bug.id])
            gate3.problems.append(
                f"{bug.id}: {len(extra)} unrecorded failing, {len(lost)} "
                f"recorded but passing {(extra + lost)[:3]} {result.error or ''}"
            )
    gate4 = Gate(f"4: determinism over {RUNS} runs of main and of the all-bugs tree")
    for name, runs in (("main", mains), ("all bugs", alls)):
        if any(_outcome_key(r) != _outcome_key(runs[0]) for r in runs[1:]):
            gate4.problems.append(f"{name}: outcomes differ between runs")
    gate5 = Gate("5: declared depends_on agrees with fresh single-bug runs")
    gate5.problems, gate5.info = implied_dependencies(catalogue, fresh)
    return [gate2, gate3, gate4, gate5]


def solved_reward_gate(root: Path, catalogue: dict[str, Bug]) -> Gate:
    """Build all bugs, apply solve.sh and check the scorer gives 1.0."""
    from harness.grade import score

    gate = Gate("7: build all, solve.sh, reward 1.0")
    bugs = list(catalogue.values())
    with tempfile.TemporaryDirectory(prefix="synapse-verify-") as scratch:
        built = build_environment(
            root, Path(scratch) / "env", bugs, manifest_extra(root, catalogue, bugs)
        )
        subprocess.run(
            ["bash", str(solution_dir(built.path) / "solve.sh"), str(built.path)],
            check=True,
            capture_output=True,
        )
        results = score(root, built.path)
    reward = compute_reward(parse_results(results))
    if reward["reward"] != 1.0:
        gate.problems.append(
            f"reward after solve.sh is {reward['reward']}: {results.get('reason')}"
        )
    return gate


def print_report(gates: list[Gate]) -> None:
    """Print each gate's verdict with its problems and information."""
    for gate in gates:
        print(f"[{'PASS' if gate.passed else 'FAIL'}] gate {gate.name}")
        for problem in gate.problems[:50]:
            print(f"    - {problem}")
        if len(gate.problems) > 50:
            print(f"    ... and {len(gate.problems) - 50} more")
        for line in gate.info[:30]:
            print(f"    info: {line}")


def verify_command(args: argparse.Namespace) -> int:
    """Run the gates (static only with --quick) and return 0 when all hold."""
    root = args.root
    try:
        catalogue = load_catalogue(root / "bugs")
    except CatalogueError as exc:
        print_report([Gate("schema: catalogue loads", [str(exc)])])
        return 1
    try:
        expected = collect_main(root)
    except CollectError as exc:
        print_report([Gate("schema: main's suite collects", [str(exc)])])
        return 1
    gates = static_gates(root, catalogue, set(expected))
    if not args.quick and all(g.passed for g in gates):
        gates += suite_gates(root, catalogue, expected, args.logs)
        gates.append(solved_reward_gate(root, catalogue))
    print_report(gates)
    failed = [g for g in gates if not g.passed]
    print(f"{len(gates) - len(failed)}/{len(gates)} gates pass")
    return 1 if failed else 0
