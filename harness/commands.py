"""Subcommand handlers: thin glue between the command line and the pipeline modules."""

from __future__ import annotations

import argparse
import subprocess
from dataclasses import replace
from pathlib import Path

from harness.build import BuildError, build_environment, solution_dir
from harness.catalogue import Bug, CatalogueError, load_catalogue, select
from harness.collect import CollectError
from harness.coverage_map import CoverageMapError
from harness.curve import CurveError
from harness.manifest import write_all_bugs_passing
from harness.plan import load_map, selected_probes
from harness.plant import PlantError
from harness.probe import Probe, ProbeResult, describe_problems, new_failures, probe_many
from harness.rebase import RebaseError
from harness.record import record_fails


class UsageProblem(Exception):
    """The command was called in a way it cannot serve."""


HarnessError = (
    CatalogueError,
    PlantError,
    BuildError,
    CollectError,
    CoverageMapError,
    CurveError,
    RebaseError,
    UsageProblem,
)


def _catalogue(args: argparse.Namespace) -> dict[str, Bug]:
    """Load the catalogue of the repository named by ``--root``."""
    return load_catalogue(args.root / "bugs")


def cmd_probe(args: argparse.Namespace) -> int:
    """Print the tests failing with the named bugs planted together."""
    bugs = select(_catalogue(args), args.bugs)
    variants = tuple(t for b in bugs for t in b.heldout) if args.heldout else ()
    probe = selected_probes(args.root, [bugs], load_map(args.root, args.full))[0]
    probe = replace(probe, heldout=variants)
    sets = [probe] if args.no_baseline else [probe, Probe([], heldout=variants)]
    results = probe_many(args.root, sets, args.jobs, cache=not args.no_cache)
    result = results[0]
    baseline = results[1] if len(results) > 1 else None
    if args.heldout:
        _print_variants(variants, result, baseline)
    failing = new_failures(result, baseline) if baseline else result.failing
    for test in failing:
        print(test)
    if baseline and baseline.report.exitstatus is None:
        print("# problem: main's suite does not run, so nothing can be compared")
    for problem in describe_problems(result):
        print(f"# problem: {problem}")
    _print_tree_changes(result, baseline)
    if baseline and baseline.failing:
        print(f"# note: {len(baseline.failing)} test(s) fail on main too and are not listed:")
        for test in baseline.failing:
            print(f"#   {test}")
    label = ",".join(result.bugs) or "no bugs"
    if result.selected is not None:
        ran = len(result.selected)
        print(f"# ran the {ran} test(s) that execute the edited code (--full: all)")
    if baseline:
        total = len(baseline.report.passing)
        print(f"# {len(failing)} of the {total} tests passing on main fail with {label}")
    else:
        print(f"# {len(failing)} of {len(result.report.outcomes)} tests run fail with {label}")
    return 1 if result.error else 0


def _print_tree_changes(result: ProbeResult, baseline: ProbeResult | None) -> None:
    """Print the files each run wrote inside its tree."""
    for run in filter(None, (result, baseline)):
        if run.report.tree_changes:
            label = ",".join(run.bugs) or "main"
            written = ", ".join(run.report.tree_changes)
            print(f"# the run with {label} wrote inside its tree: {written}")


def _print_variants(
    variants: tuple[str, ...], result: ProbeResult, baseline: ProbeResult | None
) -> None:
    """Print each held-out variant's outcome with the bugs planted (and on main)."""
    if not variants:
        print("# heldout: the named bugs list no variants")
    for test in variants:
        planted = result.heldout.outcomes.get(test, "missing") if result.heldout else "missing"
        line = f"# heldout {test}: with the bugs {planted}"
        if baseline is not None:
            report = baseline.heldout
            line += f", on main {report.outcomes.get(test, 'missing') if report else 'missing'}"
        print(line)
    for run in filter(None, (result, baseline)):
        for problem in run.heldout.problems if run.heldout else []:
            print(f"# heldout problem ({','.join(run.bugs) or 'main'}): {problem}")


def cmd_record(args: argparse.Namespace) -> int:
    """Probe each named bug alone and write its fails array."""
    catalogue = _catalogue(args)
    if args.all == bool(args.bugs):
        raise UsageProblem("give bug IDs or --all (not both)")
    bugs = list(catalogue.values()) if args.all else select(catalogue, args.bugs)
    if not args.since:
        return _record_runs(args, catalogue, bugs, all_bugs=args.all)
    status = _record_since(args, bugs)
    stale = bugs_editing_changed_code(args.root, args.since, bugs)
    if stale:
        names = " ".join(b.id for b in stale)
        print(f"code these bugs edit changed since {args.since}; recording every test: {names}")
        status |= _record_runs(args, catalogue, stale, all_bugs=False)
    return status


def bugs_editing_changed_code(root: Path, rev: str, bugs: list[Bug]) -> list[Bug]:
    """Return the bugs with an edit in a file that changed since ``rev``.

    Such a bug's outcome may have changed on any test, not only on changed test modules.
    """
    edited = sorted({edit.file for bug in bugs for edit in bug.edits})
    diff = _git(root, ["diff", "--name-only", rev, "--", *edited], rev).split()
    return [bug for bug in bugs if any(edit.file in diff for edit in bug.edits)]


def _git(root: Path, args: list[str], rev: str) -> str:
    """Return the output of a git command comparing the checkout with ``rev``."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise UsageProblem(f"cannot compare the tree with {rev}: {exc.stderr.strip()}") from exc


def _record_runs(
    args: argparse.Namespace, catalogue: dict[str, Bug], bugs: list[Bug], *, all_bugs: bool
) -> int:
    """Probe each bug alone (and every bug together with ``all_bugs``) and write what fails."""
    extra = [Probe(bugs)] if all_bugs else []
    singles = selected_probes(args.root, [[b] for b in bugs], load_map(args.root, args.full))
    probes = [Probe([]), *extra, *singles]
    results = probe_many(args.root, probes, args.jobs, cache=not args.no_cache)
    baseline, status = results[0], 0
    if baseline.report.exitstatus is None or not baseline.report.passing:
        raise UsageProblem("main's suite does not run: " + "; ".join(describe_problems(baseline)))
    if all_bugs:
        status = _record_all_bugs(args.root, catalogue, results.pop(1))
    if baseline.failing:
        print(f"warning: {len(baseline.failing)} test(s) fail on main; they are left out")
    for bug, result in zip(bugs, results[1:], strict=True):
        problems = describe_problems(result)
        if result.error:
            print(f"{bug.id}: not recorded: {result.error}")
            status = 1
            continue
        for problem in problems:
            print(f"{bug.id}: note: {problem}")
        fails = new_failures(result, baseline)
        if bug.path is None:
            raise UsageProblem(f"{bug.id}: not loaded from a file, so it cannot be recorded")
        changed = record_fails(bug.path, fails)
        flag = "updated" if changed else "unchanged"
        print(f"{bug.id}: {len(fails)} failing test(s), {flag}")
        if not fails:
            print(f"{bug.id}: warning: no test fails with this bug alone")
            status = 1
    return status


def changed_test_files(root: Path, rev: str) -> set[str]:
    """Return the test modules changed since ``rev`` (new ones too) or importing a changed one.

    A helper module under ``tests/`` that changed brings in every test module importing it,
    directly or through other helpers.
    """
    diff = _git(root, ["diff", "--name-only", rev, "--", "tests"], rev).split()
    new = _git(root, ["ls-files", "--others", "--exclude-standard", "--", "tests"], rev).split()
    changed = {f for f in diff + new if f.endswith(".py")}
    return {f for f in _importers(root, changed) if Path(f).name.startswith("test_")}


def _importers(root: Path, changed: set[str]) -> set[str]:
    """Return the files under ``tests/`` in ``changed`` and those importing one, at any depth."""
    from harness.imports import imported_modules, module_name

    imports = {}
    for path in (root / "tests").rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        imports[rel] = imported_modules(path.read_text(encoding="utf-8"), module_name(rel))
    found, todo = set(changed), list(changed)
    while todo:
        module = module_name(todo.pop())
        for rel, names in imports.items():
            if module in names and rel not in found:
                found.add(rel)
                todo.append(rel)
    return found


def updated_fails(
    recorded: tuple[str, ...], collected: set[str], scope: set[str], found: list[str]
) -> list[str]:
    """Return a bug's fails after a run of the tests in ``scope``.

    Tests in scope take their new outcome (``found``: those that failed), tests no longer
    collected leave, and every other recorded test keeps its record.
    """
    kept = {t for t in recorded if t in collected and t not in scope}
    return sorted(kept | set(found))


def _record_since(args: argparse.Namespace, bugs: list[Bug]) -> int:
    """Record each bug's outcome on the tests of modules changed since ``--since``."""
    from harness.collect import collect_main

    collected = set(collect_main(args.root))
    files = changed_test_files(args.root, args.since)
    scope = {t for t in collected if t.split("::")[0] in files}
    print(f"{len(files)} changed test module(s), {len(scope)} test(s)")
    singles = selected_probes(args.root, [[b] for b in bugs], load_map(args.root, args.full))
    chosen = {
        probe.bugs[0].id: sorted(scope if probe.tests is None else scope & set(probe.tests))
        for probe in singles
    }
    runs = [Probe([b], chosen[b.id]) for b in bugs if chosen[b.id]]
    results = probe_many(
        args.root, [Probe([], sorted(scope)), *runs], args.jobs, cache=not args.no_cache
    )
    baseline, status = results[0], 0
    if baseline.failing:
        print(f"warning: {len(baseline.failing)} test(s) fail on main; they are left out")
    outcome = {run.bugs[0].id: result for run, result in zip(runs, results[1:], strict=True)}
    for bug in bugs:
        result = outcome.get(bug.id)
        if result is not None and result.error:
            print(f"{bug.id}: not recorded: {result.error}")
            status = 1
            continue
        found = new_failures(result, baseline) if result is not None else []
        fails = updated_fails(bug.fails, collected, scope, found)
        if bug.path is None:
            raise UsageProblem(f"{bug.id}: not loaded from a file, so it cannot be recorded")
        flag = "updated" if record_fails(bug.path, fails) else "unchanged"
        ran = len(chosen[bug.id])
        print(f"{bug.id}: {len(found)} of {ran} run test(s) fail; {len(fails)} in all, {flag}")
        if not fails:
            print(f"{bug.id}: warning: no test fails with this bug alone")
            status = 1
    return status


def _record_all_bugs(root: Path, catalogue: dict[str, Bug], result: ProbeResult) -> int:
    """Write the passing set of the all-bugs tree; return 1 if it could not run."""
    if result.error or result.report.tampered:
        print(f"all bugs: not recorded: {'; '.join(describe_problems(result))}")
        return 1
    for problem in describe_problems(result):
        print(f"all bugs: note: {problem}")
    write_all_bugs_passing(root, catalogue, result.report.passing)
    print(f"all bugs: {len(result.report.passing)} passing test(s) recorded")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Build the agent environment and its solution sidecar."""
    from harness.collect import collect_main
    from harness.curriculum import choose
    from harness.manifest import manifest_extra
    from harness.verifier import write_verifier

    catalogue = _catalogue(args)
    selection = choose(catalogue, args.bugs, args.seed)
    bugs = selection.bugs
    extra = {**manifest_extra(args.root, catalogue, bugs), "selection": selection.record}
    built = build_environment(args.root, args.out, bugs, extra)
    print(f"built {built.path} with {len(built.bugs)} bug(s), {len(built.files)} files")
    print(f"selection: {selection.record['rule']}: {','.join(built.bugs) or 'none'}")
    if extra.get("expected_tests") is not None:
        bundle = write_verifier(args.root, built.path, collect_main(args.root), bugs)
        print(f"verifier: {bundle}/test.sh")
    print(f"solution: {solution_dir(built.path)}/solve.sh")
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    """Apply a build's solve.sh to it."""
    target = Path(args.dir).resolve()
    solve = solution_dir(target) / "solve.sh"
    if not solve.is_file():
        raise UsageProblem(f"{solve} does not exist (build the tree with 'harness build')")
    return subprocess.run(["bash", str(solve), str(target)], check=False).returncode


def cmd_score(args: argparse.Namespace) -> int:
    """Score a tree from pristine tests and print the table and reward."""
    from harness.grade import score_command

    return score_command(args)


def cmd_verify(args: argparse.Namespace) -> int:
    """Check the catalogue quality gates."""
    from harness.verify import verify_command

    return verify_command(args)


def cmd_curve(args: argparse.Namespace) -> int:
    """Fix the bugs one at a time, score each step, write the curve and print gate 8."""
    from harness.curve import curve_command

    return curve_command(args)


def cmd_overlap(args: argparse.Namespace) -> int:
    """Report crowded files and nearby or stacked edits."""
    from harness.overlap import overlap_command

    return overlap_command(args)


def cmd_rebase(args: argparse.Namespace) -> int:
    """Carry every bug's edits across a change of main."""
    from harness.rebase import rebase_command

    return rebase_command(args)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve RL episodes over HTTP."""
    from harness.episodes import serve_command

    return serve_command(args)


def cmd_mutants(args: argparse.Namespace) -> int:
    """Plant a seeded sample of mutants one at a time and report which the suite kills."""
    from harness import mutants

    if args.n < 1:
        raise UsageProblem("-n must be at least 1")
    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise UsageProblem("--min-score is a fraction between 0 and 1")
    candidates = mutants.all_mutants(args.root)
    equivalents = mutants.load_equivalents()
    seed = args.seed
    if args.rejudge is not None:
        try:
            summary, rows = mutants.read_report(args.rejudge)
        except ValueError as exc:
            raise UsageProblem(str(exc)) from None
        seed = int(summary.get("seed", seed))
        outcomes = mutants.rejudge(
            args.root, rows, equivalents, jobs=args.jobs, cache=not args.no_cache
        )
    else:
        sample = mutants.sample_mutants(candidates, args.n, args.seed)
        outcomes = mutants.run_mutants(
            args.root, sample, equivalents, jobs=args.jobs, cache=not args.no_cache
        )
    mutants.print_report(outcomes, len(candidates))
    out = args.json or args.root / "build" / "mutants.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(mutants.report_json(outcomes, seed=seed, candidates=len(candidates)))
    print(f"# report: {out}")
    if args.min_score is not None and mutants.score(outcomes) < args.min_score:
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Build all bugs, score, solve, score again."""
    from harness.grade import demo_command

    return demo_command(args)
