"""Choose the bugs of a build: explicit IDs, curriculum tiers, or a seeded random sample.

Specs (``harness build --bugs SPEC --seed S``):

- ``all``, ``none``, ``ID,ID,...``: as before (``catalogue.select``).
- ``tier:setup``: every category-L bug (a service or subsystem that does not start).
- ``tier:1``: every other bug that stands alone and is local: no ``depends_on`` (chain depth 1)
  and a single edit, so one change in one place repairs it.
- ``tier:2``: every other non-L bug: it depends on another bug (chain depth >= 2, its tests show
  no progress until that one is repaired too) or needs coordinated edits (two or more).
- ``tier:NAME:N``: ``N`` bugs of that tier, drawn with ``random.Random(seed)``.
- ``random:N``: ``N`` bugs of the whole catalogue, drawn with ``random.Random(seed)``.

Tiers use the bug's own depth and edit count only; a tier build plants the tier's bugs and not
the bugs they depend on (each bug alone breaks its recorded ``fails``). Draws sort the
candidates by catalogue order before sampling, so a spec and a seed name one selection on every
machine; the build records the spec, the seed and the rule in its manifest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from harness.catalogue import Bug, CatalogueError, select, sort_key

TIERS = ("setup", "1", "2")
TIER_RULES = {
    "setup": "category L",
    "1": "not L, no depends_on, one edit",
    "2": "not L, depends_on another bug or two or more edits",
}


@dataclass(frozen=True)
class Selection:
    """The bugs a spec chose and what to record about the choice."""

    bugs: list[Bug]
    record: dict[str, Any] = field(default_factory=dict)


def chain_depth(catalogue: dict[str, Bug], bug_id: str) -> int:
    """Return the length of the longest ``depends_on`` chain starting at ``bug_id`` (1: none)."""

    @cache
    def depth(current: str) -> int:
        deps = catalogue[current].depends_on
        return 1 + max((depth(d) for d in deps if d in catalogue), default=0)

    return depth(bug_id)


def tier_of(catalogue: dict[str, Bug], bug: Bug) -> str:
    """Return the curriculum tier of a bug: ``setup``, ``1`` or ``2``."""
    if bug.category == "L":
        return "setup"
    if chain_depth(catalogue, bug.id) == 1 and len(bug.edits) == 1:
        return "1"
    return "2"


def _count(text: str, spec: str) -> int:
    """Parse the sample size of a spec."""
    if not text.isdigit() or int(text) < 1:
        raise CatalogueError(f"{spec}: the count must be a positive whole number")
    return int(text)


def _draw(pool: list[Bug], count: int, seed: int, spec: str) -> list[Bug]:
    """Draw ``count`` bugs from ``pool`` with a seeded generator; return them in catalogue order."""
    if count > len(pool):
        raise CatalogueError(f"{spec}: asks for {count} bugs, only {len(pool)} to draw from")
    ordered = sorted(pool, key=lambda b: sort_key(b.id))
    chosen = random.Random(seed).sample(ordered, count)
    return sorted(chosen, key=lambda b: sort_key(b.id))


def choose(catalogue: dict[str, Bug], spec: str, seed: int = 0) -> Selection:
    """Return the bugs a spec names (see the module docstring) with the record of the choice."""
    spec = spec.strip()
    record: dict[str, Any] = {"spec": spec, "seed": seed}
    if spec.startswith("random:"):
        count = _count(spec.removeprefix("random:"), spec)
        bugs = _draw(list(catalogue.values()), count, seed, spec)
        record["rule"] = f"random.Random({seed}).sample of {count} from the catalogue"
    elif spec.startswith("tier:"):
        name, _, size = spec.removeprefix("tier:").partition(":")
        if name not in TIERS:
            raise CatalogueError(f"{spec}: unknown tier {name!r} (setup, 1, 2)")
        bugs = [b for b in catalogue.values() if tier_of(catalogue, b) == name]
        record["rule"] = f"tier {name}: {TIER_RULES[name]}"
        if size:
            bugs = _draw(bugs, _count(size, spec), seed, spec)
            record["rule"] += f"; random.Random({seed}).sample of {len(bugs)}"
    else:
        bugs = select(catalogue, spec)
        record["rule"] = "named"
    if not bugs and spec not in ("none", ""):
        raise CatalogueError(f"{spec}: selects no bug")
    record["bugs"] = [b.id for b in bugs]
    return Selection(bugs, record)
