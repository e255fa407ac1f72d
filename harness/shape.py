"""Gate 8 of the brief, the shape of the reward: fix orders, step trees and the gate's figures.

The figures are computed from any source of per-tree failing sets: real suite runs
(``harness curve``, full ``verify``) or unions of recorded ``fails`` sets (``verify --quick``),
which ignore how planted bugs interact and so are an estimate.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from environment.reward import compute_reward, parse_results
from harness.catalogue import Bug, sort_key

ALL_BUT_L1_MAX = 0.40
OUTSIDE_L_MAX = 0.65
MIN_DISTINCT_REWARDS = 6
SETUP = "L"
IMPORT_BLOCKER = "L1"

Expected = dict[str, dict[str, Any]]


def fix_order(catalogue: dict[str, Bug], order: str = "dependency", seed: int = 0) -> list[Bug]:
    """Return every bug in the order it is fixed: each one after all it depends on.

    ``dependency`` picks, among the bugs whose dependencies are fixed, the first in catalogue
    order; ``random`` picks one of them at random from ``seed``. Both are topological orders,
    so a fix is never scored before the fixes it needs. Unknown dependencies are ignored.
    """
    if order not in ("dependency", "random"):
        raise ValueError(f"unknown order {order!r} (dependency or random)")
    pick = random.Random(seed)
    needs = {b.id: {d for d in b.depends_on if d in catalogue} for b in catalogue.values()}
    ready = [i for i, deps in needs.items() if not deps]
    done: list[Bug] = []
    while ready:
        ready.sort(key=sort_key)
        bug_id = ready.pop(0 if order == "dependency" else pick.randrange(len(ready)))
        done.append(catalogue[bug_id])
        for other, deps in needs.items():
            if bug_id in deps:
                deps.discard(bug_id)
                if not deps:
                    ready.append(other)
    if len(done) != len(catalogue):
        raise ValueError("the dependencies have a cycle; no fix order exists")
    return done


def step_trees(catalogue: dict[str, Bug], order: list[Bug]) -> list[list[Bug]]:
    """Return the bugs still planted at each step: step 0 all, step k without the first k."""
    steps = []
    for k in range(len(order) + 1):
        fixed = {b.id for b in order[:k]}
        steps.append([b for b in catalogue.values() if b.id not in fixed])
    return steps


def all_but_blocker(catalogue: dict[str, Bug]) -> list[Bug]:
    """Return every bug except the one that blocks collection (L1)."""
    return [b for b in catalogue.values() if b.id != IMPORT_BLOCKER]


def outside_setup(catalogue: dict[str, Bug]) -> list[Bug]:
    """Return every bug outside category L (setup fixed)."""
    return [b for b in catalogue.values() if b.category != SETUP]


def synthetic_results(expected: Expected, failing: Iterable[str]) -> dict[str, Any]:
    """Return a results document where exactly ``failing`` tests do not pass."""
    broken = set(failing)
    tests = [
        {"id": t, **info, "outcome": "failed" if t in broken else "passed"}
        for t, info in sorted(expected.items())
    ]
    return {"tests": tests}


def reward_from_fails(expected: Expected, failing: Iterable[str]) -> dict[str, Any]:
    """Return the reward document of a tree whose failing tests are ``failing``."""
    return compute_reward(parse_results(synthetic_results(expected, failing)))


def union_fails(bugs: Iterable[Bug], fails: dict[str, set[str]]) -> set[str]:
    """Return the tests that fail with any of ``bugs`` alone."""
    return set().union(*(fails.get(b.id, set()) for b in bugs))


def free_bonuses(
    catalogue: dict[str, Bug], expected: Expected, fails: dict[str, set[str]]
) -> dict[str, str]:
    """Return, per service with tests, why its isolation bonus comes free ('' when it does not).

    A service's bonus is free when all its tests pass in a tree where none of its own bugs (the
    bugs listing it in ``services``) is fixed and every other bug is: estimated as no test of
    the service failing with any of its own bugs alone.
    """
    verdicts = {}
    for service in sorted({str(info["service"]) for info in expected.values()}):
        own = [b for b in catalogue.values() if service in b.services]
        mine = {t for t, info in expected.items() if info["service"] == service}
        if not own:
            verdicts[service] = "no bug of its own"
        elif not union_fails(own, fails) & mine:
            verdicts[service] = "its own bugs break none of its tests"
        else:
            verdicts[service] = ""
    return verdicts


@dataclass
class ShapeFigures:
    """The figures gate 8 judges, from whichever runs or sets produced them."""

    all_but_l1: float | None
    outside_l: float
    rewards: list[float]
    free: dict[str, str] = field(default_factory=dict)
    order: str = "dependency"

    @property
    def distinct(self) -> int:
        """Return how many distinct reward values the curve passes through."""
        return len(set(self.rewards))

    def problems(self) -> list[str]:
        """Return how the figures miss gate 8 (empty: it holds)."""
        found = []
        if self.all_but_l1 is not None and self.all_but_l1 > ALL_BUT_L1_MAX:
            found.append(f"all bugs but L1: weighted pass rate above {ALL_BUT_L1_MAX:.2f}")
        if self.outside_l > OUTSIDE_L_MAX:
            found.append(f"every non-L bug: weighted pass rate above {OUTSIDE_L_MAX:.2f}")
        if self.distinct < MIN_DISTINCT_REWARDS:
            found.append(f"fewer than {MIN_DISTINCT_REWARDS} distinct rewards along the curve")
        found += [
            f"{s}: isolation bonus without fixing a bug of its own ({why})"
            for s, why in self.free.items()
            if why
        ]
        return found

    def lines(self) -> list[str]:
        """Return the figures as report lines."""
        free = [s for s, why in self.free.items() if why]
        held = [s for s, why in self.free.items() if not why]
        blocker = "n/a" if self.all_but_l1 is None else f"{self.all_but_l1:.4f}"
        return [
            f"weighted pass rate, every bug but L1 planted: {blocker} "
            f"(gate: <= {ALL_BUT_L1_MAX:.2f})",
            f"weighted pass rate, every non-L bug planted: {self.outside_l:.4f} "
            f"(gate: <= {OUTSIDE_L_MAX:.2f})",
            f"distinct rewards along the {self.order}-order curve: {self.distinct} "
            f"{sorted(set(self.rewards))} (gate: >= {MIN_DISTINCT_REWARDS})",
            f"isolation bonus needs one of its own bugs fixed: {', '.join(held) or 'none'}",
            "isolation bonus comes without one: "
            + ("; ".join(f"{s} ({self.free[s]})" for s in free) or "none"),
        ]


def figures_from_fails(
    catalogue: dict[str, Bug], expected: Expected, fails: dict[str, set[str]]
) -> ShapeFigures:
    """Return gate 8's figures estimated from per-bug failing sets (no suite runs)."""

    def rate(bugs: list[Bug]) -> float:
        return float(reward_from_fails(expected, union_fails(bugs, fails))["weighted_pass_rate"])

    blocker = all_but_blocker(catalogue) if IMPORT_BLOCKER in catalogue else None
    steps = step_trees(catalogue, fix_order(catalogue))
    rewards = [
        float(reward_from_fails(expected, union_fails(bugs, fails))["reward"]) for bugs in steps
    ]
    return ShapeFigures(
        all_but_l1=None if blocker is None else rate(blocker),
        outside_l=rate(outside_setup(catalogue)),
        rewards=rewards,
        free=free_bonuses(catalogue, expected, fails),
    )
