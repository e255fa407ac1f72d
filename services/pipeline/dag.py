"""Pipeline definitions as DAGs: validation (kinds, names, edges, cycles) and scheduling order."""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadRequestError

STEP_KINDS = ("validate", "transform", "materialize", "train", "evaluate", "register")
MAX_STEPS = 64


class InvalidPipelineError(BadRequestError):
    """Raised when a pipeline definition is not a valid DAG of known steps."""

    code = "invalid_pipeline"


@dataclass(frozen=True)
class Step:
    """One step of a pipeline: a unique name, a kind, its upstream steps and parameters."""

    name: str
    kind: str
    depends_on: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


def validate(steps: Sequence[Step]) -> list[str]:
    """Check a definition and return its steps' names in execution order.

    Refuse an empty or oversized DAG, unknown kinds, duplicate names, edges to unknown steps,
    self-edges and cycles, naming the offending steps.
    """
    if not steps:
        raise InvalidPipelineError("a pipeline needs at least one step")
    if len(steps) > MAX_STEPS:
        raise InvalidPipelineError(f"a pipeline has at most {MAX_STEPS} steps, got {len(steps)}")
    names = [step.name for step in steps]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidPipelineError(
            f"duplicate step names: {', '.join(duplicates)}", details={"steps": duplicates}
        )
    unknown_kinds = sorted(step.name for step in steps if step.kind not in STEP_KINDS)
    if unknown_kinds:
        raise InvalidPipelineError(
            f"unknown step kind in {', '.join(unknown_kinds)}; kinds are {', '.join(STEP_KINDS)}",
            details={"steps": unknown_kinds},
        )
    known = set(names)
    dangling = sorted(
        f"{step.name} -> {upstream}"
        for step in steps
        for upstream in step.depends_on
        if upstream not in known or upstream == step.name
    )
    if dangling:
        raise InvalidPipelineError(
            f"steps depend on unknown steps or themselves: {', '.join(dangling)}",
            details={"edges": dangling},
        )
    return execution_order(steps)


def execution_order(steps: Sequence[Step]) -> list[str]:
    """Return a topological order; among steps ready together, the lexically smallest first."""
    downstream: dict[str, list[str]] = {step.name: [] for step in steps}
    waiting = {step.name: len(set(step.depends_on)) for step in steps}
    for step in steps:
        for upstream in set(step.depends_on):
            downstream[upstream].append(step.name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for child in downstream[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    if len(order) != len(steps):
        cycle = sorted(name for name, count in waiting.items() if count > 0)
        raise InvalidPipelineError(
            f"the steps form a cycle: {', '.join(cycle)}", details={"steps": cycle}
        )
    return order


def canonical(steps: Sequence[Step], trigger: str | None) -> dict[str, Any]:
    """Return the canonical JSON form of a definition (what its version digest covers)."""
    return {
        "trigger": trigger,
        "steps": [
            {
                "name": step.name,
                "kind": step.kind,
                "depends_on": sorted(set(step.depends_on)),
                "params": dict(step.params),
            }
            for step in sorted(steps, key=lambda s: s.name)
        ],
    }


def digest(steps: Sequence[Step], trigger: str | None) -> str:
    """Return the SHA-256 of a definition's canonical form: equal definitions, equal digests."""
    text = json.dumps(canonical(steps, trigger), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upstream_closure(steps: Sequence[Mapping[str, Any]], name: str) -> set[str]:
    """Return every step ``name`` transitively depends on (steps as stored declarations)."""
    by_name = {step["name"]: step for step in steps}
    seen: set[str] = set()
    stack = list(by_name[name]["depends_on"])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(by_name[current]["depends_on"])
    return seen
