"""Registry test helpers: the registry as an in-process WSGI app, DB access, factories.

Other services' tests reach the registry through the platform client with an in-process
transport; the registry runs in the test's thread on pytest-django's in-memory databases:

    import pytest
    from shared.clients.base import ServiceClient, StaticDiscovery
    from shared.clients.inprocess import InProcessTransport
    from tests.utils.registry import REGISTRY_DB, registry_wsgi_app

    pytestmark = [pytest.mark.training, REGISTRY_DB]

    def test_job_registers_a_version():
        client = ServiceClient(
            "registry",
            discovery=StaticDiscovery({"registry": "http://registry"}),
            transport=InProcessTransport({"registry": registry_wsgi_app()}),
        )
        body = client.post_json("/api/v1/registered-models/churn/versions",
                                json={"artifact_uri": "file:///tmp/churn.npz"})
        assert body["version"] == 1

Database access: every test that talks to the registry needs pytest-django access to the
models_db alias: mark the module or test with `REGISTRY_DB` (`django_db(databases="__all__")`;
write `pytest.mark.django_db(databases="__all__", transaction=True)` instead if the test
needs real commits). Every test starts with an empty registry; its writes are rolled back.
Even /health needs it: Django checks its open connections at the start of every request.

Fixtures: with this module listed in `pytest_plugins` of tests/conftest.py, the fixtures
`registry_app` (the WSGI app), `registry_client` (httpx client on http://registry),
`registry_django_client` (Django test client) and `registry_db` are global, and tests that use
them get the `REGISTRY_DB` marker automatically. Without the plugin, build the same objects
with `registry_wsgi_app()`, `registry_http_client()` and `registry_test_client()`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

REGISTRY_DB = pytest.mark.django_db(databases="__all__")
REGISTRY_BASE_URL = "http://registry"
REGISTRY_FIXTURES = ("registry_app", "registry_client", "registry_db", "registry_django_client")
DEFAULT_ARTIFACT_URI = "file:///var/synapse/artifacts/model.npz"


def registry_wsgi_app() -> Any:
    """Return the registry service's WSGI app (Django set up, registry URLconf only)."""
    from services.django_project.wsgi import get_wsgi_application_for

    return get_wsgi_application_for("registry")


def registry_http_client() -> httpx.Client:
    """Return an httpx client whose requests to http://registry reach the in-process app."""
    from shared.clients.inprocess import InProcessTransport

    _warm_up()
    transport = InProcessTransport({"registry": registry_wsgi_app()})
    return httpx.Client(transport=transport, base_url=REGISTRY_BASE_URL)


def registry_test_client() -> Any:
    """Return a Django test client whose requests are served by the registry URLconf."""
    from django.test import Client

    from services.django_project.middleware import SERVICE_KEY

    _warm_up()
    return Client(**{SERVICE_KEY: "registry"})


def versions_url(name: str, version: int | None = None, action: str | None = None) -> str:
    """Return the path of a model's versions, one version, or one version's action."""
    path = f"/api/v1/registered-models/{name}/versions"
    if version is not None:
        path += f"/{version}"
    if action is not None:
        path += f"/{action}"
    return path


def version_payload(**overrides: Any) -> dict[str, Any]:
    """Return a valid register-version body; keyword arguments replace or add fields."""
    payload: dict[str, Any] = {
        "artifact_uri": DEFAULT_ARTIFACT_URI,
        "run_id": "run-0001",
        "metrics": {"accuracy": 0.91, "loss": 0.25},
        "params": {"lr": 0.01, "epochs": 5},
        "input_schema": {"features": ["tenure_months", "monthly_spend"]},
    }
    payload.update(overrides)
    return payload


def create_version(name: str, *, stage: str | None = None, **fields: Any) -> Any:
    """Register a version through the registry's service layer and move it to `stage`.

    `stage` may be "Staging", "Production" or "Archived"; the usual transitions are taken
    (None → Staging → Production/Archived). Returns the ModelVersion row.
    """
    from services.registry import services

    payload = version_payload(**fields)
    new = services.NewVersion(
        artifact_uri=payload["artifact_uri"],
        run_id=payload.get("run_id", ""),
        metrics=payload.get("metrics", {}),
        params=payload.get("params", {}),
        input_schema=payload.get("input_schema"),
        parent_version=payload.get("parent_version"),
    )
    row = services.register_version(name, new)
    path = {None: [], "None": [], "Staging": ["Staging"], "Production": ["Staging", "Production"]}
    for step in path.get(stage, ["Staging", stage]):
        row, _ = services.transition_version(name, row.version, step)
    return row


@functools.cache
def _warm_up() -> None:
    # Import the URLconf, views and serializers once, so the first test's request is not
    # the one paying for them.
    from django.urls import get_resolver

    registry_wsgi_app()
    get_resolver("services.registry.urls").url_patterns  # noqa: B018


_registry_started = False


def _start_registry() -> None:
    """Run the registry's startup check: every table of its app answers a read on models_db.

    Once it has passed it is not repeated: the session's test databases keep their schema from
    test to test, as a deployment's database does between requests. A failing check runs (and
    fails) again for every test.
    """
    global _registry_started
    if not _registry_started:
        from services.django_project.health import check_tables

        check_tables("registry")
        _registry_started = True


def _require_registry_db(request: pytest.FixtureRequest) -> None:
    _warm_up()
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        request.node.add_marker(REGISTRY_DB)
    request.getfixturevalue("db")
    _start_registry()


@pytest.fixture(autouse=True)
def registry_ready(request: pytest.FixtureRequest) -> None:
    """Start the registry as a deployment does for every test with database access."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transaction = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transaction else "db")
    _start_registry()


@pytest.fixture
def registry_db(request: pytest.FixtureRequest) -> None:
    """Give the test database access to every alias, models_db included."""
    _require_registry_db(request)


@pytest.fixture
def registry_app(registry_db: None) -> Any:
    """Return the registry WSGI app, with database access for the test."""
    return registry_wsgi_app()


@pytest.fixture
def registry_client(registry_app: Any) -> Iterator[httpx.Client]:
    """Return an httpx client whose requests to http://registry reach the in-process app."""
    with registry_http_client() as client:
        yield client


@pytest.fixture
def registry_django_client(registry_db: None) -> Any:
    """Return a Django test client whose requests are served by the registry URLconf."""
    return registry_test_client()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give tests that use the registry fixtures database access to every alias."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if item.get_closest_marker("django_db") is None and any(
            name in fixtures for name in REGISTRY_FIXTURES
        ):
            item.add_marker(REGISTRY_DB)
