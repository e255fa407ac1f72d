"""Feature store test helpers: the service through the Django test client, and row factories.

    import pytest
    from tests.utils.features import FEATURES_DB, FeaturesAPI

    pytestmark = [pytest.mark.features, FEATURES_DB]

    def test_view_starts_at_version_one():
        api = FeaturesAPI()
        assert api.view("txn", [feature("amount", "decimal")])["version"] == 1

Every test starts with an empty models_db; its writes are rolled back. ``api.post`` returns the
response; the helpers named after actions assert the expected status and return the body.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.cache.base import Cache
from shared.cache.memory import InMemoryCache
from shared.cache.redis import CacheUnavailableError
from tests.utils.django_api import DjangoServiceAPI

FEATURES_DB = pytest.mark.django_db(databases="__all__")
ENTITY = "customer"
# A fixed day the tests place their events around (the online store's TTLs are checked
# against now, so online tests use times relative to now instead).
DAY = datetime(2026, 3, 1, tzinfo=UTC)


def features_wsgi_app() -> Any:
    """Return the feature store's WSGI app (Django set up, its URLconf only)."""
    from services.django_project.wsgi import get_wsgi_application_for

    return get_wsgi_application_for("features")


def feature(name: str, dtype: str = "decimal", *transforms: dict[str, Any]) -> dict[str, Any]:
    """Return one feature definition."""
    return {"name": name, "dtype": dtype, "transforms": list(transforms)}


def at(hours: float = 0, base: datetime = DAY) -> str:
    """Return the ISO text of ``base`` plus some hours (UTC, "Z")."""
    return (base + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def ago(hours: float) -> str:
    """Return the ISO text of a moment some hours before now (UTC)."""
    return at(-hours, datetime.now(UTC))


def row(key: str, when: str, **values: Any) -> dict[str, Any]:
    """Return one offline row."""
    return {"entity_key": key, "event_time": when, "values": values}


class FeaturesAPI(DjangoServiceAPI):
    """The feature store as a client sees it, through the Django test client."""

    service = "features"

    def entity(self, name: str = ENTITY, join_key: str = "customer_id") -> dict[str, Any]:
        """Declare an entity."""
        return self.ok(self.post("/api/v1/entities", {"name": name, "join_key": join_key}), 201)

    def view(
        self,
        name: str,
        features: list[dict[str, Any]],
        ttl: int = 7 * 24 * 3600,
        entity: str = ENTITY,
        status: int = 201,
    ) -> dict[str, Any]:
        """Declare a feature view (declaring its entity first when needed)."""
        if not any(e["name"] == entity for e in self.get("/api/v1/entities").json()["items"]):
            self.entity(entity)
        body = {
            "name": name,
            "entity": entity,
            "owner": "risk-team",
            "online_ttl_seconds": ttl,
            "features": features,
        }
        return self.ok(self.post("/api/v1/feature-views", body), status)

    def backfill(self, name: str, rows: list[dict[str, Any]] | str) -> dict[str, Any]:
        """Store offline rows."""
        body = rows if isinstance(rows, str) else {"rows": rows}
        return self.ok(self.post(f"/api/v1/feature-views/{name}/rows", body), 201)

    def materialize(self, name: str, as_of: str | None = None) -> dict[str, Any]:
        """Materialise a view into the online store."""
        body = {} if as_of is None else {"as_of": as_of}
        return self.ok(self.post(f"/api/v1/feature-views/{name}/materialize", body))

    def push(self, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Push fresh rows to the online (and offline) store."""
        return self.ok(self.post(f"/api/v1/online/{name}", {"rows": rows}), 201)

    def online(self, name: str, *keys: str) -> dict[str, Any]:
        """Read online features; return the whole answer."""
        return self.ok(self.get(f"/api/v1/online/{name}", entity_key=list(keys)))

    def online_values(self, name: str, *keys: str) -> dict[str, Any]:
        """Return entity key -> online values (None when missing or stale)."""
        return {e["entity_key"]: e["values"] for e in self.online(name, *keys)["entities"]}

    def training_set(
        self, entity_rows: list[tuple[str, str]], features: list[str]
    ) -> list[dict[str, Any]]:
        """Return the rows of a point-in-time training set."""
        body = {
            "entity_rows": [{"entity_key": k, "event_time": t} for k, t in entity_rows],
            "features": features,
        }
        return self.ok(self.post("/api/v1/training-sets", body))["rows"]

    def statistics(self, name: str, start: str, end: str) -> dict[str, Any]:
        """Return a view's statistics over a window."""
        body = {"window": {"start": start, "end": end}}
        return self.ok(self.post(f"/api/v1/feature-views/{name}/statistics", body))["features"]

    def drift(self, name: str, reference: tuple[str, str], current: tuple[str, str]) -> Any:
        """Return a view's drift report between two windows."""
        body = {
            "reference": {"start": reference[0], "end": reference[1]},
            "current": {"start": current[0], "end": current[1]},
        }
        return self.ok(self.post(f"/api/v1/feature-views/{name}/drift", body))


@pytest.fixture
def features_api(db: None) -> FeaturesAPI:
    """Return the feature store's test client (the test gets database access)."""
    return FeaturesAPI()


class DownCache(Cache):
    """A cache whose server is unreachable: every call raises CacheUnavailableError."""

    def _down(self, *args: Any, **kwargs: Any) -> Any:
        raise CacheUnavailableError("cache unavailable: connection refused")

    get = set = add = delete = incr = ttl = _down


class InterruptedCache(InMemoryCache):
    """An in-memory cache that runs ``interrupt`` once, just before its first write.

    A materialisation writes the online store while it holds its view; the interruption lands
    another request exactly then, in the same thread, so the interleaving is the same each run.
    """

    def __init__(self, interrupt: Callable[[], None]) -> None:
        super().__init__()
        self.interrupt: Callable[[], None] | None = interrupt

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Run the pending interruption, then store the value."""
        interrupt, self.interrupt = self.interrupt, None
        if interrupt is not None:
            interrupt()
        super().set(key, value, ttl)
