"""Sampled mutation testing: how much wrong code in `services/` and `shared/` the suite notices.

A mutant is one small edit of main (a comparison, arithmetic or boolean operator, a `not`, an
integer or boolean literal), planted exactly as a catalogue bug is and run on the tests that
execute the mutated function (the coverage map that narrows bug probes; the whole suite when
the map cannot tell). A mutant is killed when a test that passes on main fails; it survives
when they all pass, or when no test executes the mutated line at all.

Mutants are drawn from every site with ``random.Random(seed)``, so ``-n`` and ``--seed`` name
one sample on every machine while main does not change. A mutant that cannot change behaviour
(an equivalent mutant) is listed in ``harness/mutants_equivalent.toml`` with the reason, and the
score leaves it out: score = killed / (sampled - equivalent).
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.catalogue import Bug, Edit
from harness.plant import read_text, unique_anchor

if TYPE_CHECKING:
    from harness.coverage_map import CoverageMap
    from harness.probe import Probe, ProbeResult

SOURCE_ROOTS = ("services", "shared")
EQUIVALENT_FILE = Path(__file__).with_name("mutants_equivalent.toml")

# Operator swaps: (AST node type, source token pattern, replacement text, label).
COMPARE_SWAPS: dict[type, tuple[str, str, str]] = {
    ast.Lt: (r"<(?!=)", "<=", "< -> <="),
    ast.LtE: (r"<=", "<", "<= -> <"),
    ast.Gt: (r">(?!=)", ">=", "> -> >="),
    ast.GtE: (r">=", ">", ">= -> >"),
    ast.Eq: (r"==", "!=", "== -> !="),
    ast.NotEq: (r"!=", "==", "!= -> =="),
    ast.Is: (r"\bis\b(?!\s+not\b)", "is not", "is -> is not"),
    ast.IsNot: (r"\bis\s+not\b", "is", "is not -> is"),
    ast.In: (r"(?<!not )\bin\b", "not in", "in -> not in"),
    ast.NotIn: (r"\bnot\s+in\b", "in", "not in -> in"),
}
BINOP_SWAPS: dict[type, tuple[str, str, str]] = {
    ast.Add: (r"\+", "-", "+ -> -"),
    ast.Sub: (r"-", "+", "- -> +"),
    ast.Mult: (r"(?<!\*)\*(?!\*)", "/", "* -> /"),
    ast.Div: (r"(?<!/)/(?!/)", "*", "/ -> *"),
    ast.FloorDiv: (r"//", "/", "// -> /"),
}
BOOL_SWAPS: dict[type, tuple[str, str, str]] = {
    ast.And: (r"\band\b", "or", "and -> or"),
    ast.Or: (r"\bor\b", "and", "or -> and"),
}
AUG_SWAPS: dict[type, tuple[str, str, str]] = {
    ast.Add: (r"\+=", "-=", "+= -> -="),
    ast.Sub: (r"-=", "+=", "-= -> +="),
}
# Calls whose arguments are messages, not behaviour: a mutant there is not a test's business.
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})


@dataclass(frozen=True)
class Mutant:
    """One mutation of one line: where, what changed, and the edit that plants it."""

    id: str
    file: str
    line: int
    function: str
    label: str
    original: str
    mutated: str
    edit: Edit

    def as_bug(self) -> Bug:
        """Return the mutant as a one-edit bug, so the probe machinery can plant and run it."""
        return Bug(self.id, self.label, "M", (), (), (), (self.edit,))


@dataclass(frozen=True)
class Outcome:
    """What the suite made of one mutant."""

    mutant: Mutant
    status: str  # killed | survived | uncovered | equivalent | invalid | gone
    tests_run: int | None  # None: the whole suite ran
    killed_by: tuple[str, ...] = ()
    reason: str = ""


def source_files(root: Path) -> list[Path]:
    """Return the Python files mutants are drawn from (no tests, migrations or packages' inits)."""
    files = []
    for top in SOURCE_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).parts
            if "tests" in rel or "migrations" in rel or path.name == "__init__.py":
                continue
            files.append(path)
    return files


def _excluded_nodes(tree: ast.Module) -> set[int]:
    """Return ids of nodes no mutant touches: annotations, TYPE_CHECKING, log calls, docstrings."""
    skipped: list[ast.AST | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.arg):
            skipped.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skipped.append(node.returns)
        elif (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"log", "logger", "LOG", "LOGGER", "logging"}
        ):
            skipped.append(node)
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skipped.append(first.value)
    return {id(inner) for node in skipped if node is not None for inner in ast.walk(node)}


def _functions(tree: ast.Module) -> dict[int, str]:
    """Map each line to the qualified name of the innermost function or class holding it."""
    names: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    names[line] = name
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def _swap(line: bytes, start: int, end: int, pattern: str, new: str) -> bytes | None:
    """Replace the first match of ``pattern`` in ``line[start:end]``; None when there is none."""
    segment = line[start:end].decode("utf-8", errors="strict")
    match = re.search(pattern, segment)
    if match is None:
        return None
    changed = segment[: match.start()] + new + segment[match.end() :]
    return line[:start] + changed.encode() + line[end:]


def _one_line(*nodes: ast.AST) -> bool:
    lines = {n.lineno for n in nodes} | {n.end_lineno for n in nodes}  # type: ignore[attr-defined]
    return len(lines) == 1


def _operator_gap(node: ast.AST) -> tuple[int, int, tuple[str, str, str]] | None:
    """Return the byte span between an operator's operands and its swap, if it has one."""
    swap: tuple[str, str, str] | None = None
    left: ast.AST | None = None
    right: ast.AST | None = None
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap, left, right = COMPARE_SWAPS.get(type(node.ops[0])), node.left, node.comparators[0]
    elif isinstance(node, ast.BinOp):
        swap, left, right = BINOP_SWAPS.get(type(node.op)), node.left, node.right
    elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
        swap, (left, right) = BOOL_SWAPS[type(node.op)], node.values
    elif isinstance(node, ast.AugAssign):
        swap, left, right = AUG_SWAPS.get(type(node.op)), node.target, node.value
    if swap is None or left is None or right is None:
        return None
    return left.end_col_offset or 0, right.col_offset, swap  # type: ignore[attr-defined]


def _candidates(node: ast.AST, line: bytes) -> Iterator[tuple[bytes, str]]:
    """Yield (mutated line, label) for the mutations of one AST node on a single line."""
    if not _one_line(node):
        return
    gap = _operator_gap(node)
    if gap is not None:
        start, end, (pattern, new, label) = gap
        mutated = _swap(line, start, end, pattern, new)
        if mutated is not None:
            yield mutated, label
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        mutated = _swap(line, node.col_offset, node.operand.col_offset, r"^not\s*", "")
        if mutated is not None:
            yield mutated, "drop not"
    elif isinstance(node, ast.Constant) and isinstance(node.value, int):
        start, end = node.col_offset, node.end_col_offset or node.col_offset
        value = node.value
        changed = (not value) if isinstance(value, bool) else value + 1
        yield line[:start] + str(changed).encode() + line[end:], f"{value} -> {changed}"


def mutants_of(root: Path, path: Path) -> list[Mutant]:
    """Return every mutant of one file, in source order."""
    text = read_text(path)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    rel = path.relative_to(root).as_posix()
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    excluded, functions = _excluded_nodes(tree), _functions(tree)
    found: list[Mutant] = []
    for node in ast.walk(tree):
        lineno = getattr(node, "lineno", None)
        if lineno is None or id(node) in excluded:
            continue
        raw = lines[lineno - 1].encode()
        for new_raw, label in _candidates(node, raw):
            mutant = _mutant(rel, text, offsets, lineno, raw, new_raw, label, functions)
            if mutant is not None:
                found.append(mutant)
    found.sort(key=lambda m: (m.line, m.label, m.mutated))
    return _unique(found)


def _mutant(
    rel: str,
    text: str,
    offsets: list[int],
    lineno: int,
    raw: bytes,
    new_raw: bytes,
    label: str,
    functions: dict[int, str],
) -> Mutant | None:
    """Build one mutant's edit (widened until its text is unique); None if it changes nothing."""
    original, mutated = raw.decode(), new_raw.decode()
    if original == mutated:
        return None
    start, end = unique_anchor(text, offsets[lineno - 1], offsets[lineno])
    before = text[start:end]
    after = before.replace(original, mutated, 1) if before.count(original) == 1 else None
    if after is None:
        local = offsets[lineno - 1] - start
        after = before[:local] + mutated + before[local + len(original) :]
    function = functions.get(lineno, "<module>")
    key = f"{rel}::{function}::{original.strip()}::{label}::{mutated.strip()}"
    ident = "MUT-" + hashlib.sha256(key.encode()).hexdigest()[:10]
    return Mutant(
        ident,
        rel,
        lineno,
        function,
        label,
        original.rstrip("\n"),
        mutated.rstrip("\n"),
        Edit(rel, before, after),
    )


def _unique(mutants: list[Mutant]) -> list[Mutant]:
    """Drop repeats of one id (the same mutation of an identical line in one function)."""
    seen: set[str] = set()
    kept = []
    for mutant in mutants:
        if mutant.id not in seen:
            seen.add(mutant.id)
            kept.append(mutant)
    return kept


def all_mutants(root: Path) -> list[Mutant]:
    """Return every mutant of the mutated source roots, in file and line order."""
    return [m for path in source_files(root) for m in mutants_of(root, path)]


def sample_mutants(mutants: list[Mutant], count: int, seed: int) -> list[Mutant]:
    """Return ``count`` mutants drawn with ``random.Random(seed)``, in source order."""
    if count >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(seed).sample(range(len(mutants)), count))
    return [m for i, m in enumerate(mutants) if i in chosen]


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    """Return mutant id -> why it cannot change behaviour, from the maintainers' list."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {entry["id"]: entry["reason"] for entry in data.get("equivalent", [])}


def score(outcomes: list[Outcome]) -> float:
    """Return killed / (mutants - equivalent), 1.0 when nothing counts."""
    counted = [o for o in outcomes if o.status not in ("equivalent", "invalid", "gone")]
    killed = sum(o.status == "killed" for o in counted)
    return killed / len(counted) if counted else 1.0


def report_json(outcomes: list[Outcome], *, seed: int, candidates: int) -> str:
    """Return the report of a run as JSON (summary and every outcome)."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    rows = []
    for outcome in outcomes:
        row = asdict(outcome)
        row["mutant"].pop("edit")
        rows.append(row)
    summary = {"seed": seed, "candidates": candidates, "sampled": len(outcomes), "counts": counts}
    return json.dumps({"summary": summary, "score": score(outcomes), "outcomes": rows}, indent=2)


def compiles(root: Path, mutant: Mutant) -> bool:
    """Return whether the mutated file still compiles (a syntax error is not a test's catch)."""
    text = read_text(root / mutant.file)
    at = text.find(mutant.edit.before)
    planted = text[:at] + mutant.edit.after + text[at + len(mutant.edit.before) :]
    try:
        compile(planted, mutant.file, "exec")
    except SyntaxError:
        return False
    return True


def run_mutants(
    root: Path,
    sample: list[Mutant],
    equivalents: dict[str, str],
    *,
    jobs: int | None = None,
    cache: bool = True,
) -> list[Outcome]:
    """Plant each sampled mutant alone, run the tests that execute it, and classify it.

    Main's suite runs first; each mutant then runs only the tests that pass on main and stops
    at the first failure (one failing test is all a kill needs), so a killed mutant costs
    little and a test failing on main can neither kill a mutant nor cut a run short.
    """
    from harness.collect import collect_main
    from harness.coverage_map import coverage_map
    from harness.probe import Probe, probe_many

    cmap = coverage_map(root)
    expected = sorted(collect_main(root))
    baseline = probe_many(root, [Probe([])], jobs, cache=cache)[0]
    passing = set(baseline.report.passing)
    outcomes: dict[str, Outcome] = {}
    probes: list[Probe] = []
    runs: list[Mutant] = []
    for mutant in sample:
        planned = _plan(root, cmap, expected, passing, mutant, equivalents)
        if isinstance(planned, Outcome):
            outcomes[mutant.id] = planned
            continue
        probes.append(planned)
        runs.append(mutant)
    results = probe_many(root, probes, jobs, cache=cache)
    for mutant, result in zip(runs, results, strict=True):
        outcomes[mutant.id] = _classify(mutant, result, passing)
    return [outcomes[m.id] for m in sample]


FAIL_FAST = ("--maxfail=1",)
# Verdicts a rejudge keeps: a kill stands while its test does, and the code does not compile again.
FINAL = ("killed", "invalid")


def read_report(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the summary and the outcome rows of a report written by ``report_json``."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return document["summary"], list(document["outcomes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a mutants report: {exc}") from None


def rejudge(
    root: Path,
    rows: list[dict[str, Any]],
    equivalents: dict[str, str],
    *,
    jobs: int | None = None,
    cache: bool = True,
) -> list[Outcome]:
    """Run again only the mutants of an earlier report that no test killed, on today's tree.

    Kills and non-compiling mutants keep their verdict; the others (survived, not executed,
    equivalent no longer listed) run again. A mutant whose line has changed since is ``gone``
    and, like an equivalent one, leaves the score.
    """
    current = {m.id: m for m in all_mutants(root)}
    outcomes: dict[str, Outcome] = {}
    again: list[Mutant] = []
    for row in rows:
        data = dict(row["mutant"])
        mutant = current.get(str(data["id"]))
        if mutant is None:
            gone = Mutant(**data, edit=Edit(str(data["file"]), "", ""))
            outcomes[gone.id] = Outcome(gone, "gone", 0, reason="the mutated line has changed")
        elif row["status"] in FINAL:
            killed_by = tuple(row.get("killed_by") or ())
            outcomes[mutant.id] = Outcome(
                mutant, str(row["status"]), row.get("tests_run"), killed_by, str(row["reason"])
            )
        else:
            again.append(mutant)
    for outcome in run_mutants(root, again, equivalents, jobs=jobs, cache=cache):
        outcomes[outcome.mutant.id] = outcome
    return [outcomes[str(row["mutant"]["id"])] for row in rows]


def _plan(
    root: Path,
    cmap: CoverageMap,
    expected: list[str],
    passing: set[str],
    mutant: Mutant,
    equivalents: dict[str, str],
) -> Outcome | Probe:
    """Return a mutant's outcome when no run is needed, else the probe that runs it."""
    from harness.probe import Probe
    from harness.selection import tests_for_edit

    if not compiles(root, mutant):
        return Outcome(mutant, "invalid", 0, reason="does not compile")
    if mutant.id in equivalents:
        return Outcome(mutant, "equivalent", 0, reason=equivalents[mutant.id])
    tests = tests_for_edit(root, cmap, expected, mutant.edit)
    scope = set(expected) if tests is None else tests & set(expected)
    chosen = sorted(scope & passing)
    if not chosen:
        return Outcome(mutant, "uncovered", 0, reason="no test that passes on main runs this line")
    # The whole suite is named by its root (a short command line) when main fails nothing.
    whole = tests is None and scope <= passing
    return Probe([mutant.as_bug()], None if whole else chosen, args=FAIL_FAST)


def _classify(mutant: Mutant, result: ProbeResult, passing: set[str]) -> Outcome:
    """Return what one mutant's run says: killed when a test passing on main did not pass."""
    ran = result.report.outcomes
    scope = passing if result.selected is None else set(result.selected) & passing
    failed = sorted(t for t in scope if t in ran and ran[t] != "passed")
    if not failed:  # a run stops early only after a failure: a test it left out was lost
        failed = sorted(t for t in scope if t not in ran)
    problem = result.error or "; ".join(result.report.problems)
    status = "killed" if failed or problem else "survived"
    count = None if result.selected is None else len(result.selected)
    return Outcome(mutant, status, count, tuple(failed[:5]), problem[:200])


def print_report(outcomes: list[Outcome], candidates: int) -> None:
    """Print the survivors (what no test noticed) and the summary line."""
    for outcome in outcomes:
        if outcome.status in ("survived", "uncovered"):
            m = outcome.mutant
            print(f"{outcome.status:9} {m.file}:{m.line} {m.function} [{m.label}] {m.id}")
            print(f"          {m.original.strip()}  ->  {m.mutated.strip()}")
    counts = {
        s: sum(o.status == s for o in outcomes)
        for s in ("killed", "survived", "uncovered", "equivalent", "invalid", "gone")
    }
    print(
        f"# {len(outcomes)} of {candidates} mutants sampled: {counts['killed']} killed, "
        f"{counts['survived']} survived, {counts['uncovered']} not executed by any test, "
        f"{counts['equivalent']} equivalent and {counts['invalid']} not compiling (both "
        f"excluded), {counts['gone']} on lines changed since (excluded); "
        f"score {score(outcomes):.1%}"
    )
