"""Suite-wide rules: a non-UTC process time zone and exactly one service marker per test."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator

import pytest

from shared import backends
from shared.ml import files
from shared.services import SERVICES

# A zone with DST and a non-zero offset makes naive-datetime code fail every time.
os.environ["TZ"] = "America/New_York"
time.tzset()

# Every infrastructure port runs in-process: the scored suite never reaches a server, even
# in a shell where `python -m infra env` pointed the platform at the local stack.
for _port, _name in {
    "EVENTS": "memory",
    "CACHE": "memory",
    "STORAGE": "memory",
    "SEARCH": "memory",
    "DISCOVERY": "static",
    "LOCKS": "memory",
}.items():
    os.environ[f"SYNAPSE_{_port}_BACKEND"] = _name

# Fixtures every area uses: the in-process registry (registry_app, registry_client, ...).
pytest_plugins = ["tests.utils.registry", "tests.utils.experiments", "tests.utils.features"]

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


@pytest.fixture(autouse=True)
def fresh_backends() -> Iterator[None]:
    """Give each test new in-process bus, cache, store, index, registry and locks."""
    backends.reset_backends()
    yield
    backends.reset_backends()


@pytest.fixture(autouse=True)
def _syncs_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip disk syncs, which cost milliseconds each and which no test can observe.

    Tests that check a write is made durable record the syncs with ``tests.utils.ml.fake_fsync``.
    """
    monkeypatch.setattr(files, "sync_fd", lambda fd: None)


def category_of(nodeid: str) -> str | None:
    """Return the category folder a test node ID lives in, or None."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/")
    return next((c for c in CATEGORIES if path.startswith(c + "/")), None)


@pytest.fixture(autouse=True, scope="session")
def _local_state_outside_the_tree(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the files services create by default (the SQLite folder) out of the checkout."""
    from django.conf import settings

    settings.VAR_DIR = tmp_path_factory.mktemp("var")


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect garbage less often while the tests run.

    The modules and test items built so far live until the end: frozen, no collection walks
    them again. A young generation of 10,000 objects instead of 700 makes collections rarer;
    the default thresholds spent about a tenth of the suite's time in the collector.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
