"""Traffic routing between versions of one model: sticky buckets, exact splits, a shadow.

A request key (a customer id, a session) is hashed with the model name into one of
``BUCKETS`` buckets; a routing table gives each routed version a contiguous range of buckets
in proportion to its percentage. The hash is SHA-256, not Python's ``hash()`` (salted per
process), so every replica sends a key to the same version, and the same key always lands
on the same version for as long as the table does not change. A table is immutable: a new
split replaces it whole, so a request sees either the old table or the new one.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

# Resolution of a split: percentages have at most two decimal places (0.01 % is one bucket).
BUCKETS = 10_000
# Registry stages whose versions may take live or shadow traffic (a canary comes from Staging).
ROUTABLE_STAGES = ("Production", "Staging")
# Buckets of keyless requests step by a number coprime with BUCKETS, so N keyless requests
# cover the buckets evenly instead of all landing on one version.
KEYLESS_STRIDE = 7_919


def bucket_of(name: str, key: str) -> int:
    """Return the bucket in [0, BUCKETS) of a request key for model ``name``."""
    digest = hashlib.sha256(f"{name}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@dataclass(frozen=True)
class RouteTable:
    """Routed versions of one model with the exclusive upper bucket bound of each."""

    name: str
    versions: tuple[int, ...]
    bounds: tuple[int, ...]
    shadow: int | None = None
    _keyless: Any = field(default_factory=itertools.count, compare=False, repr=False)

    def pick(self, bucket: int) -> int:
        """Return the version that serves ``bucket``: the first whose bound lies above it."""
        for version, bound in zip(self.versions, self.bounds, strict=True):
            if bucket < bound:
                return version
        raise ValueError(f"bucket {bucket} is outside every route of {self.name!r}")

    def version_for(self, key: str | None) -> int:
        """Return the version that serves a request key (keyless requests take turns)."""
        if key is None:
            return self.pick(next(self._keyless) * KEYLESS_STRIDE % BUCKETS)
        return self.pick(bucket_of(self.name, key))

    def shares(self) -> list[int]:
        """Return how many buckets each routed version owns, in route order."""
        return [high - low for low, high in zip((0, *self.bounds), self.bounds, strict=False)]

    @property
    def all_versions(self) -> tuple[int, ...]:
        """Return the routed versions and the shadow, each once."""
        extra = () if self.shadow is None or self.shadow in self.versions else (self.shadow,)
        return (*self.versions, *extra)


def percent_text(buckets: int) -> str:
    """Return a share of BUCKETS as a percentage with two decimals ("12.50")."""
    return f"{buckets // 100}.{buckets % 100:02d}"


def table_out(table: RouteTable) -> dict[str, Any]:
    """Return a routing table as its API body."""
    return {
        "name": table.name,
        "routes": [
            {"version": version, "percent": percent_text(share), "buckets": share}
            for version, share in zip(table.versions, table.shares(), strict=True)
        ],
        "shadow": table.shadow,
    }
