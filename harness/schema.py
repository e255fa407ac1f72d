"""Static checks of catalogue metadata: services, dependencies, fails, brief constraints."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from harness.catalogue import Bug, Edit, sort_key
from harness.plant import PlantError, apply_edit, read_text

# Bugs the agent-facing README places in key files (each needs an edit in each listed file).
KEY_FILES = {
    "shared/ml/model_loader.py": ("M1", "M2", "M8", "B1", "I3"),
    "shared/ml/feature_utils.py": ("C1", "C2", "C3", "C4"),
    "shared/clients/base.py": ("G1", "G3", "H6"),
    "shared/utils/distributed.py": ("A1", "A2", "A9", "F10"),
    "services/training/main.py": ("A1", "A2", "A3", "M2", "M5", "M8"),
    "services/inference/main.py": ("B1", "B2", "B3", "B5", "B7", "B9", "H1"),
    "services/features/views.py": ("C1", "C2", "C5", "C6", "C7", "C8"),
    "services/experiments/views.py": ("E1", "E2", "E3", "E4", "E5", "E8"),
}
REQUIRED_DEPENDENCIES = {"B1": ("A1", "M1", "L5"), "I3": ("B1",)}
CATEGORY_COUNTS = dict(
    zip("LMABCDEFGHIJK", (15, 10, 10, 10, 8, 10, 8, 10, 6, 8, 10, 7, 8), strict=True)
)
MIN_CHAIN_DEPTH = 7
# Shares of the non-setup bugs (issue 8, point 2): no unit test fails for them, and they need
# edits in two or more places (a changed import alone does not make a second place).
MIN_FLOW_ONLY_SHARE = 0.40
MIN_COORDINATED_SHARE = 0.25
_IMPORT_LINE = re.compile(r"^(from\s+\S+\s+import\b|import\s|\)$|\($|[\w, ]+,$)")


def known_services(root: Path) -> set[str]:
    """Return the service names declared in shared/services.py (read, never imported)."""
    tree = ast.parse((root / "shared" / "services.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ServiceSpec"):
            continue
        named = [k.value for k in node.keywords if k.arg == "name"]
        first = node.args[0] if node.args else (named[0] if named else None)
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def check_metadata(bugs: dict[str, Bug], services: set[str], tests: set[str] | None) -> list[str]:
    """Return problems with each bug's services, dependencies and fails."""
    problems = []
    for bug in bugs.values():
        if not bug.services:
            problems.append(f"{bug.id}: lists no services")
        problems += [f"{bug.id}: unknown service {s!r}" for s in bug.services if s not in services]
        for dep in bug.depends_on:
            if dep == bug.id or dep not in bugs:
                problems.append(f"{bug.id}: depends_on names {dep!r}, not another bug")
        if not bug.fails:
            problems.append(f"{bug.id}: fails is empty (record it with 'harness record')")
        if tests is not None:
            problems += [
                f"{bug.id}: fails names unknown test {t}" for t in bug.fails if t not in tests
            ]
    return problems + find_cycles(bugs)


def find_cycles(bugs: dict[str, Bug]) -> list[str]:
    """Return one problem per dependency cycle found."""
    state: dict[str, int] = {}
    problems: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in bugs[node].depends_on:
            if dep not in bugs:
                continue
            if state.get(dep) == 1:
                cycle = path[path.index(dep) :] + [dep] if dep in path else [node, dep]
                problems.append("dependency cycle: " + " -> ".join(cycle))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for bug_id in bugs:
        if bug_id not in state:
            visit(bug_id, [bug_id])
    return problems


def chain_depth(bugs: dict[str, Bug]) -> int:
    """Return the number of bugs on the longest dependency chain (cycles ignored)."""
    memo: dict[str, int] = {}

    def depth(node: str, seen: frozenset[str]) -> int:
        if node in memo:
            return memo[node]
        deps = [d for d in bugs[node].depends_on if d in bugs and d not in seen]
        value = 1 + max((depth(d, seen | {d}) for d in deps), default=0)
        memo[node] = value
        return value

    return max((depth(b, frozenset({b})) for b in bugs), default=0)


def check_brief(bugs: dict[str, Bug]) -> list[str]:
    """Return problems with the brief's key files, required dependencies and chain depth."""
    problems = []
    for file, ids in KEY_FILES.items():
        for bug_id in ids:
            if bug_id in bugs and file not in {e.file for e in bugs[bug_id].edits}:
                problems.append(f"{bug_id}: the README places it in {file}, which it does not edit")
    for bug_id, deps in REQUIRED_DEPENDENCIES.items():
        missing = [d for d in deps if bug_id in bugs and d not in bugs[bug_id].depends_on]
        if missing:
            problems.append(f"{bug_id}: must depend on {', '.join(missing)}")
    depth = chain_depth(bugs)
    if depth < MIN_CHAIN_DEPTH:
        problems.append(
            f"the longest dependency chain is {depth} deep; the brief asks for {MIN_CHAIN_DEPTH}"
        )
    return problems


def is_flow_only(bug: Bug) -> bool:
    """Return whether the bug's recorded failures are all outside ``tests/unit/``."""
    return not any(test.startswith("tests/unit/") for test in bug.fails)


def _changes_code(edit: Edit) -> bool:
    """Return whether an edit changes a line other than an import."""
    head, tail = edit.unchanged_ends()
    changed = []
    for text in (edit.before, edit.after):
        lines = text.splitlines()
        changed += lines[head : len(lines) - tail]
    return any(line.strip() and not _IMPORT_LINE.match(line.strip()) for line in changed)


def is_coordinated(bug: Bug) -> bool:
    """Return whether the bug changes code in two or more places (imports aside)."""
    return sum(_changes_code(edit) for edit in bug.edits) >= 2


def _shares(bugs: dict[str, Bug]) -> list[tuple[str, int, int, float]]:
    """Return (what, count, of, minimum) for the flow-only and coordinated non-L bugs."""
    core = [b for b in bugs.values() if b.category != "L"]
    return [
        (
            "flow-only (no unit test fails)",
            sum(map(is_flow_only, core)),
            len(core),
            MIN_FLOW_ONLY_SHARE,
        ),
        (
            "coordinated (edits in two or more places)",
            sum(map(is_coordinated, core)),
            len(core),
            MIN_COORDINATED_SHARE,
        ),
    ]


def check_shares(bugs: dict[str, Bug]) -> list[str]:
    """Return a problem for each share of the non-L bugs below the brief's minimum."""
    return [
        f"{what}: {count} of {total} non-L bugs ({count / total:.0%}); the brief asks for "
        f"at least {minimum:.0%}"
        for what, count, total, minimum in _shares(bugs)
        if total and count < minimum * total
    ]


def catalogue_info(bugs: dict[str, Bug]) -> list[str]:
    """Return informational lines: category counts against the brief and chain depth."""
    counts = {c: sum(b.category == c for b in bugs.values()) for c in CATEGORY_COUNTS}
    short = [f"{c} {counts[c]}/{n}" for c, n in CATEGORY_COUNTS.items() if counts[c] != n]
    lines = [f"{len(bugs)} bugs; longest dependency chain {chain_depth(bugs)} deep"]
    if short:
        lines.append("category counts differ from the brief: " + ", ".join(short))
    lines += [
        f"{what}: {count} of {total} non-L bugs ({count / total:.0%})"
        for what, count, total, _ in _shares(bugs)
        if total
    ]
    return lines


def check_edits_alone(root: Path, bugs: dict[str, Bug]) -> list[str]:
    """Return problems of bugs whose edits do not apply, each bug alone, on main."""
    problems = []
    cache: dict[str, str | None] = {}
    for bug in sorted(bugs.values(), key=lambda b: sort_key(b.id)):
        texts: dict[str, str] = {}
        try:
            for edit in bug.edits:
                if edit.file not in cache:
                    path = root / edit.file
                    cache[edit.file] = read_text(path) if path.is_file() else None
                if edit.file not in texts:
                    original = cache[edit.file]
                    if original is None:
                        raise PlantError(f"{bug.id}: file {edit.file} does not exist")
                    texts[edit.file] = original
                texts[edit.file], _ = apply_edit(texts[edit.file], edit, bug.id)
        except PlantError as exc:
            problems.append(str(exc))
    return problems
