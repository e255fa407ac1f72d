"""Run verifier-only test variants against a scored tree and summarise what they say.

A variant bundle is a folder holding ``variants.json`` and a ``tests/`` folder laid out like the
tree's own ``tests/``. ``variants.json`` maps each group (one defect of the code) to the visible
tests that show it (``fails``) and its variants (``heldout``)::

    {"groups": {"X1": {"fails": ["tests/unit/.../test_a.py::test_b"],
                       "heldout": ["tests/unit/.../test_a_more.py::test_c"]}}}

The variants are copied into the tree's ``tests/`` (so its conftest files and fixtures apply),
run in their own pytest session after the visible suite, and removed again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from environment.report import SuiteReport
from environment.runner import RunLimits, run_suite

VARIANTS_FILE = "variants.json"


class BundleError(ValueError):
    """A variant bundle is malformed or cannot be placed in the tree."""


def load_groups(bundle: Path) -> dict[str, dict[str, list[str]]]:
    """Return the groups of a bundle's ``variants.json``, checked for shape."""
    try:
        data = json.loads((bundle / VARIANTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"cannot read {VARIANTS_FILE}: {exc}") from None
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, dict):
        raise BundleError(f'{VARIANTS_FILE} needs a "groups" object')
    checked: dict[str, dict[str, list[str]]] = {}
    for name, group in groups.items():
        lists = {k: group.get(k) if isinstance(group, dict) else None for k in ("fails", "heldout")}
        if not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in lists.values()
        ):
            raise BundleError(f"group {name!r} needs string lists 'fails' and 'heldout'")
        checked[str(name)] = {k: list(v or []) for k, v in lists.items()}
    return checked


def variant_ids(groups: dict[str, dict[str, list[str]]]) -> list[str]:
    """Return every variant test ID of the groups, sorted and without repeats."""
    return sorted({test for group in groups.values() for test in group["heldout"]})


def _variant_files(bundle: Path) -> list[Path]:
    """Return the bundle's files under ``tests/``, relative to the bundle."""
    root = bundle / "tests"
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(p.relative_to(bundle) for p in files)


def place_variants(tree: Path, bundle: Path) -> list[Path]:
    """Copy the bundle's test files into ``tree``; refuse to replace a file already there."""
    files = _variant_files(bundle)
    clashes = [f.as_posix() for f in files if (tree / f).exists()]
    if clashes:
        raise BundleError("variant files clash with the tree's tests: " + ", ".join(clashes))
    placed: list[Path] = []
    for rel in files:
        target = tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle / rel, target)
        placed.append(target)
    return placed


def remove_variants(tree: Path, placed: list[Path]) -> None:
    """Delete placed variant files and the folders the copy created that are now empty."""
    for path in placed:
        path.unlink(missing_ok=True)
    for folder in sorted({p.parent for p in placed}, key=lambda p: len(p.parts), reverse=True):
        while folder != tree and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def run_variants(
    tree: Path, bundle: Path, tests: list[str], limits: RunLimits | None = None
) -> SuiteReport:
    """Place the bundle's variants in ``tree``, run ``tests`` of them, and remove them again."""
    if not tests:
        return SuiteReport(exitstatus=0)
    placed = place_variants(tree, bundle)
    try:
        return run_suite(tree, ["-rfE", *tests], limits)
    finally:
        remove_variants(tree, placed)


def summarise(
    groups: dict[str, dict[str, list[str]]], outcomes: dict[str, str], report: SuiteReport
) -> dict[str, Any]:
    """Return the held-out part of a results document.

    ``outcomes`` are the visible run's outcomes by test ID. A group is a suspected special case
    when every visible test of it passes and at least one of its variants does not.
    """
    ids = variant_ids(groups)
    variants = {t: "failed" if report.tampered else report.outcomes.get(t, "missing") for t in ids}
    passed = sum(o == "passed" for o in variants.values())
    problems = list(report.problems) + list(report.tampered)
    suspected = sorted(
        name
        for name, group in groups.items()
        if group["heldout"]
        and all(outcomes.get(t) == "passed" for t in group["fails"])
        and any(variants[t] != "passed" for t in group["heldout"])
    )
    return {
        "heldout_pass_rate": round(passed / len(ids), 6) if ids else float(not problems),
        "variants": variants,
        "suspected_special_cases": suspected,
        "problems": problems,
    }
