"""Check the catalogue quality gates of the brief and print a gate-by-gate report."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from environment.reward import compute_reward, parse_results
from environment.scorer import build_results
from harness.build import build_environment, build_tree, solution_dir
from harness.catalogue import Bug, CatalogueError, load_catalogue
from harness.collect import CollectError, collect_main
from harness.coverage_map import CoverageMap, CoverageMapError
from harness.gate import Gate
from harness.grade import score
from harness.heldout import check_variants, coverage_info, leaked_variants
from harness.leaks import hint_words, scan_tree
from harness.manifest import catalogue_fingerprint, manifest_extra, read_all_bugs_passing
from harness.overlap import overlap_report
from harness.plan import load_map, sample, selected_probes, selection_disagreement
from harness.plant import PlantError
from harness.probe import (
    Probe,
    ProbeResult,
    default_jobs,
    describe_problems,
    log_name,
    new_failures,
    probe_one,
)
from harness.schema import (
    catalogue_info,
    check_brief,
    check_edits_alone,
    check_metadata,
    check_shares,
    known_services,
)
from harness.shape_gates import shape_gate, shape_gate_recorded
from harness.trees import diff_trees

RUNS = 3


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
    schema.problems += check_shares(catalogue)
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
        variants = Gate("H: held-out variants are listed tests of bugs/heldout; none ships")
        variants.problems += check_variants(root, catalogue, expected)
        variants.problems += leaked_variants(root, built.path)
        variants.info += coverage_info(catalogue)
    overlap = Gate("overlap: crowded files, nearby edits, edits on other edits (info only)")
    overlap.info = overlap_report(catalogue, root)
    return [schema, gate1, gate5, gate6, gate7, variants, overlap]


def _outcome_key(result: ProbeResult) -> dict[str, str]:
    """Return a run's outcomes, with run-level problems folded in."""
    return dict(result.report.outcomes) | {f"!{p}": "" for p in describe_problems(result)}


@dataclass
class SuiteOptions:
    """How the suite gates run: parallelism, logs, cache, test selection and its self-check."""

    jobs: int = field(default_factory=default_jobs)
    log_dir: Path | None = None
    cache: bool = True
    full: bool = False
    check_selection: int = 2


class _Runner:
    """Submit probes to one pool of ``jobs`` workers, numbering their logs in submit order."""

    def __init__(self, root: Path, pool: ThreadPoolExecutor, options: SuiteOptions) -> None:
        self.root, self.pool, self.options, self.count = root, pool, options, 0

    def submit(self, probe: Probe) -> Future[ProbeResult]:
        """Queue one probe; return its future ProbeResult."""
        log_dir = self.options.log_dir
        log = None if log_dir is None else log_dir / log_name(self.count, probe.bugs)
        self.count += 1
        return self.pool.submit(probe_one, self.root, probe, None, log, self.options.cache)


def _singles(
    root: Path,
    runner: _Runner,
    bugs: list[Bug],
    mapped: Future[CoverageMap | None],
    options: SuiteOptions,
) -> tuple[list[Future[ProbeResult]], dict[str, Future[ProbeResult]]]:
    """Queue every bug alone (on its selected tests) and full runs of a sample of them."""
    probes = selected_probes(root, [[b] for b in bugs], mapped.result())
    probes = [replace(p, heldout=b.heldout) for b, p in zip(bugs, probes, strict=True)]
    singles = [runner.submit(p) for p in probes]
    salt = catalogue_fingerprint(root, {b.id: b for b in bugs})
    narrowed = [b for b, p in zip(bugs, probes, strict=True) if p.tests is not None]
    chosen = sample(narrowed, options.check_selection, salt)
    checks = {b.id: runner.submit(Probe([b])) for b in chosen}
    return singles, checks


def _confirm(
    runner: _Runner,
    bugs: list[Bug],
    singles: list[Future[ProbeResult]],
    checks: dict[str, Future[ProbeResult]],
    baseline: ProbeResult,
) -> tuple[list[ProbeResult], Gate]:
    """Check selected runs against full runs and return the results to judge.

    Every selected run that disagrees with the record is run again in full (the sampled ones
    already were); the full run replaces it, and any difference is a gate-3s problem.
    """
    gate = Gate("3s: selected runs fail the same tests as full runs")
    results = [f.result() for f in singles]
    full = dict(checks)
    for bug, result in zip(bugs, results, strict=True):
        fresh = set(new_failures(result, baseline))
        within = result.selected is None or set(bug.fails) <= set(result.selected)
        disagrees = fresh != set(bug.fails) or not within
        if result.selected is not None and disagrees and bug.id not in full:
            full[bug.id] = runner.submit(Probe([bug]))
    narrowed = sum(r.selected is not None for r in results)
    for index, bug in enumerate(bugs):
        if bug.id in full:
            wide = full[bug.id].result()
            found = selection_disagreement(results[index], wide, baseline)
            gate.problems += [f"{bug.id}: {p}" for p in found[:5]]
            results[index] = replace(wide, heldout=results[index].heldout)
    gate.info.append(
        f"{narrowed} of {len(bugs)} single-bug runs ran selected tests; "
        f"{len(full)} of them were compared with a full run"
    )
    return results, gate


def suite_gates(
    root: Path,
    catalogue: dict[str, Bug],
    expected: dict[str, dict[str, Any]],
    options: SuiteOptions | None = None,
) -> list[Gate]:
    """Run the gates that need suite runs: 2, 3 (with the selection check), 4, 5 and 7."""
    options = options or SuiteOptions()
    if options.log_dir is not None:
        options.log_dir.mkdir(parents=True, exist_ok=True)
    bugs = list(catalogue.values())
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        runner = _Runner(root, pool, options)
        mapped = pool.submit(load_map, root, options.full)
        variants = tuple(t for b in bugs for t in b.heldout)
        finals = [runner.submit(Probe([], reuse=False, heldout=variants))]
        finals += [runner.submit(Probe([], reuse=False)) for _ in range(RUNS - 1)]
        finals += [runner.submit(Probe(bugs, reuse=False)) for _ in range(RUNS)]
        solved = pool.submit(solved_reward_gate, root, catalogue)
        singles, checks = _singles(root, runner, bugs, mapped, options)
        baseline = finals[0].result()
        results, selection = _confirm(runner, bugs, singles, checks, baseline)
        gates = _judge(root, catalogue, expected, [f.result() for f in finals], results)
        held = heldout_gate(bugs, finals[0].result(), results)
        return gates[:2] + [selection] + gates[2:] + [solved.result(), held]


def _judge(
    root: Path,
    catalogue: dict[str, Bug],
    expected: dict[str, dict[str, Any]],
    finals: list[ProbeResult],
    singles: list[ProbeResult],
) -> list[Gate]:
    """Judge gates 2, 3, 4 and 5 from the finished runs."""
    bugs = list(catalogue.values())
    mains, alls = finals[:RUNS], finals[RUNS:]
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
    gate4 = determinism_gate(mains, alls, singles)
    gate5 = Gate("5: declared depends_on agrees with fresh single-bug runs")
    gate5.problems, gate5.info = implied_dependencies(catalogue, fresh)
    return [gate2, gate3, gate4, gate5]


def heldout_gate(bugs: list[Bug], main: ProbeResult, singles: list[ProbeResult]) -> Gate:
    """Judge the variant runs: all pass on main, and each bug alone fails every one of its own.

    (The solved tree passing them all is part of gate 7's score.)
    """
    gate = Gate("H runs: variants pass on main and fail with their bug alone")
    passing = set(main.heldout.passing if main.heldout else [])
    for bug, result in zip(bugs, singles, strict=True):
        gate.problems += [
            f"main: {bug.id}'s variant {t} does not pass" for t in bug.heldout if t not in passing
        ]
        outcomes = result.heldout.outcomes if result.heldout else {}
        gate.problems += [
            f"{bug.id}: its variant {t} passes with the bug alone"
            for t in bug.heldout
            if outcomes.get(t, "missing") == "passed"
        ]
        # A run pytest could not even start (a planted import cycle reached by conftest) runs
        # nothing: its variants do not pass, as an unrun visible test counts as failing.
        started = result.heldout is None or result.heldout.exitstatus is not None
        gate.problems += [
            f"{bug.id}: its variant {t} was not run"
            for t in bug.heldout
            if t not in outcomes and started
        ]
    with_variants = sum(bool(b.heldout) for b in bugs)
    gate.info.append(f"{with_variants} of {len(bugs)} bugs have variants; each was run alone")
    return gate


def determinism_gate(
    mains: list[ProbeResult], alls: list[ProbeResult], singles: list[ProbeResult]
) -> Gate:
    """Judge gate 4: repeated runs agree, and no run of main or of one bug writes in its tree."""
    gate = Gate(
        f"4: determinism over {RUNS} runs of main and of the all-bugs tree; "
        "main and single-bug runs write nothing inside their tree"
    )
    for name, runs in (("main", mains), ("all bugs", alls)):
        if any(_outcome_key(r) != _outcome_key(runs[0]) for r in runs[1:]):
            gate.problems.append(f"{name}: outcomes differ between runs")
    gate.problems += hermeticity_problems([*mains, *singles])
    return gate


def hermeticity_problems(results: list[ProbeResult]) -> list[str]:
    """Return one problem per run that created, modified or deleted files inside its tree."""
    return [
        f"{','.join(r.bugs) or 'main'}: the run wrote inside the tree: "
        + ", ".join(r.report.tree_changes[:5])
        for r in results
        if r.report.tree_changes
    ]


def solved_reward_gate(root: Path, catalogue: dict[str, Bug]) -> Gate:
    """Build all bugs, apply solve.sh and check the scorer gives 1.0."""
    gate = Gate("7: build all, solve.sh, reward 1.0 and every held-out variant passes")
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
        results = score(root, built.path, heldout=True)
    reward = compute_reward(parse_results(results))
    if reward["reward"] != 1.0:
        gate.problems.append(
            f"reward after solve.sh is {reward['reward']}: {results.get('reason')}"
        )
    heldout = results.get("heldout") or {}
    failing = sorted(t for t, o in heldout.get("variants", {}).items() if o != "passed")
    gate.problems += [f"held-out variant {t} fails after solve.sh" for t in failing[:20]]
    gate.problems += [f"held-out run: {p}" for p in heldout.get("problems", [])[:5]]
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
    full = not args.quick and all(g.passed for g in gates)
    if full:
        options = SuiteOptions(
            jobs=args.jobs or default_jobs(),
            log_dir=args.logs,
            cache=not args.no_cache,
            full=args.full,
            check_selection=args.check_selection,
        )
        try:
            gates += suite_gates(root, catalogue, expected, options)
        except CoverageMapError as exc:
            gates.append(Gate("3: tests selected from main's coverage", [str(exc)]))
        if args.gate8 != "skip":
            gates.append(
                shape_gate(root, catalogue, options.jobs, options.cache, args.gate8 == "enforce")
            )
    if not full or args.gate8 == "skip":
        gates.append(shape_gate_recorded(catalogue, expected))
    print_report(gates)
    failed = [g for g in gates if not g.passed]
    print(f"{len(gates) - len(failed)}/{len(gates)} gates pass")
    return 1 if failed else 0
