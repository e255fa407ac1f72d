"""Suite-wide rules: a non-UTC process time zone and exactly one service marker per test."""

from __future__ import annotations

import os
import time

import pytest

from shared.services import SERVICES

# A zone with DST and a non-zero offset makes naive-datetime code fail every time.
os.environ["TZ"] = "America/New_York"
time.tzset()

# Fixtures every area uses: the in-process registry (registry_app, registry_client, ...).
pytest_plugins = ["tests.utils.registry"]

CATEGORIES = (
    "unit/ml_pipeline",
    "unit/model_serving",
    "unit/feature_store",
    "unit/experiments",
    "integration",
    "chaos/distributed",
    "chaos/serving",
    "security",
    "performance",
    "contract",
    "system",
)


def category_of(nodeid: str) -> str | None:
    """Return the category folder a test node ID lives in, or None."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/")
    return next((c for c in CATEGORIES if path.startswith(c + "/")), None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse tests that lack exactly one service marker or live outside a category."""
    problems = []
    for item in items:
        owners = [m.name for m in item.iter_markers() if m.name in SERVICES]
        if len(set(owners)) != 1:
            problems.append(f"{item.nodeid}: needs exactly one service marker, has {owners}")
        if category_of(item.nodeid) is None:
            problems.append(f"{item.nodeid}: not inside a category folder")
    if problems:
        raise pytest.UsageError("invalid tests:\n" + "\n".join(problems))
