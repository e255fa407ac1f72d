"""Test categories of the scored suite with their reward weights."""

from __future__ import annotations

from fractions import Fraction

# Folder under tests/ -> weight in the weighted pass rate.
CATEGORY_WEIGHTS: dict[str, Fraction] = {
    "unit/ml_pipeline": Fraction(1),
    "unit/model_serving": Fraction(1),
    "unit/feature_store": Fraction(1),
    "unit/experiments": Fraction(1),
    "integration": Fraction(3, 2),
    "chaos/distributed": Fraction(3),
    "chaos/serving": Fraction(3),
    "security": Fraction(5, 2),
    "performance": Fraction(2),
    "contract": Fraction(2),
    "system": Fraction(3),
}

CATEGORIES: tuple[str, ...] = tuple(CATEGORY_WEIGHTS)

ML_PIPELINE = "unit/ml_pipeline"


def category_of(nodeid: str) -> str | None:
    """Return the category folder a test node ID lives in, or None."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/")
    return next((c for c in CATEGORIES if path.startswith(c + "/")), None)


# The fifteen services; each test carries exactly one of these as a pytest marker. A copy of the
# names in shared/services.py: the scorer must not import code an agent may edit (a drift test
# in checks/ keeps the two equal).
SERVICES: tuple[str, ...] = (
    "gateway",
    "auth",
    "models",
    "registry",
    "training",
    "inference",
    "features",
    "pipeline",
    "experiments",
    "monitoring",
    "scheduler",
    "workers",
    "storage",
    "webhooks",
    "admin",
)


def service_of(markers: list[str]) -> str | None:
    """Return the one service named among a test's marker names, or None."""
    owners = sorted({m for m in markers if m in SERVICES})
    return owners[0] if len(owners) == 1 else None
