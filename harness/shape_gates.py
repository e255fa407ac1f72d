"""Gate 8 of the brief (shape of the reward) as verify reports it.

``verify --quick`` estimates the figures from unions of recorded ``fails`` sets and reports
them as info; full ``verify`` measures the dependency-order curve with suite runs (cached per
tree) and judges it, unless ``--gate8 info`` (report only) or ``--gate8 skip`` (no runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.catalogue import Bug
from harness.curve import CurveError, measure
from harness.gate import Gate
from harness.shape import figures_from_fails, fix_order


def shape_gate_recorded(catalogue: dict[str, Bug], expected: dict[str, dict[str, Any]]) -> Gate:
    """Report gate 8's figures estimated from unions of recorded fails sets (info only)."""
    gate = Gate("8: reward shape, estimated from recorded fails sets (info; full verify judges)")
    try:
        figures = figures_from_fails(
            catalogue, expected, {b.id: set(b.fails) for b in catalogue.values()}
        )
    except ValueError as exc:
        gate.info.append(f"not computed: {exc}")
        return gate
    gate.info += figures.lines()
    gate.info += [f"would fail: {p}" for p in figures.problems()]
    return gate


def shape_gate(
    root: Path, catalogue: dict[str, Bug], jobs: int | None, cache: bool, enforce: bool
) -> Gate:
    """Measure the dependency-order curve with suite runs and judge gate 8 on it.

    With ``enforce`` false (``--gate8 info``) the misses are reported as info and the gate passes.
    """
    gate = Gate("8: reward shape (range, steps, isolation bonuses), from suite runs")
    try:
        curve = measure(root, catalogue, fix_order(catalogue), jobs, cache)
    except (CurveError, ValueError) as exc:
        gate.problems.append(f"curve not measured: {exc}")
        return gate
    gate.info += curve.figures.lines()
    gate.info += [
        f"{label} wrote inside the tree: {', '.join(w[:3])}"
        for label, w in curve.tree_changes.items()
    ]
    misses = curve.figures.problems()
    if enforce:
        gate.problems += misses
    else:
        gate.info += [f"not enforced (--gate8 info): {p}" for p in misses]
    return gate
