"""Held-out: setup problems met through other entry points, import orders and start-up paths."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from services.inference.events import PromotionFollower
from services.inference.registry_cache import CachedRegistry
from shared.bootstrap.runner import main
from shared.cache.memory import InMemoryCache
from shared.events.schema import EventType, make_event, publish_event
from shared.infra_settings import InfraSettings
from shared.search.mappings import PLATFORM_INDICES
from shared.search.memory import InMemorySearchIndex
from tests.utils.events import make_memory_bus
from tests.utils.inference import FakeRegistry
from tests.utils.registry import REGISTRY_DB

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.training
def test_a_worker_importing_the_error_types_first_starts_cleanly():
    # A worker started from the checkout, whatever path rules the calling process runs under.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    result = subprocess.run(
        [sys.executable, "-c", "import shared.errors"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.gateway
def test_installed_environment_matches_every_runtime_pin():
    drift = []
    for raw in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, pinned = line.partition("==")
        installed = metadata.version(name)
        if installed != pinned:
            drift.append(f"{name}: pinned {pinned}, installed {installed}")
    assert drift == []


@pytest.mark.registry
@REGISTRY_DB
def test_registry_models_have_no_changes_missing_from_its_migrations():
    from django.core.management import call_command

    out = io.StringIO()
    try:
        call_command("makemigrations", "registry", check=True, dry_run=True, stdout=out)
    except SystemExit as exc:
        pytest.fail(f"unmigrated model changes (exit {exc.code}): {out.getvalue()}")


class Serving:
    """A replica serving version 1 of ranker."""

    def __init__(self) -> None:
        self.swaps: list[tuple[str, int]] = []

    def snapshot(self) -> dict:
        return {"items": [{"name": "ranker", "version": 1}]}

    def deploy(self, name: str, version: int, stage: str | None = None) -> None:
        self.swaps.append((name, version))


@pytest.mark.inference
def test_replica_on_a_bus_bootstrapped_by_the_command_follows_a_registry_promotion():
    bus = make_memory_bus()
    code = main(
        ["kafka"], settings=InfraSettings(), builders={"kafka": lambda s: bus}, out=io.StringIO()
    )
    assert code == 0
    fake = FakeRegistry()
    fake.add("ranker", 2, "ranker/v2/model.npz")
    server = Serving()
    follower = PromotionFollower(
        server, CachedRegistry(fake.client(), InMemoryCache()), bus, "inference-e"
    )
    data = {
        "name": "ranker",
        "version": 2,
        "artifact_uri": "ranker/v2/model.npz",
        "archived_versions": [1],
    }
    publish_event(bus, make_event(EventType.MODEL_VERSION_PROMOTED, data, source="registry"))
    assert follower.process_pending() == 1
    assert server.swaps == [("ranker", 2)]


@pytest.mark.inference
def test_registry_answering_502_or_429_or_a_redirect_is_not_healthy():
    for status in (502, 429, 302):
        assert FakeRegistry(health=[status]).client().is_healthy() is False, status


@pytest.mark.registry
def test_search_step_of_the_bootstrap_command_gives_every_index_its_mapping():
    search = InMemorySearchIndex()
    out = io.StringIO()
    assert (
        main(["search"], settings=InfraSettings(), builders={"search": lambda s: search}, out=out)
        == 0
    )
    for name, definition in PLATFORM_INDICES.items():
        assert search.get_mapping(name) == definition.mappings, name
