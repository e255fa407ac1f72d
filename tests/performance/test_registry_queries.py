"""Registry reads do a bounded number of queries, however many versions or ancestors exist."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from services.registry import services
from services.registry.models import ModelVersion
from tests.utils.registry import (
    REGISTRY_DB,
    create_version,
    registry_test_client,
    versions_url,
)

pytestmark = [pytest.mark.registry, REGISTRY_DB]


@pytest.fixture
def registry_django_client() -> Client:
    return registry_test_client()


def count_queries(call) -> int:
    """Return how many SQL statements `call()` runs on models_db."""
    with CaptureQueriesContext(connections["models_db"]) as captured:
        call()
    return len(captured.captured_queries)


def make_chain(name: str, length: int) -> None:
    """Register `length` versions, each the parent of the next."""
    create_version(name)
    for number in range(2, length + 1):
        create_version(name, parent_version=number - 1)


def test_listing_versions_costs_the_same_for_two_or_twelve_versions(registry_django_client):
    make_chain("small", 2)
    make_chain("large", 12)
    small = count_queries(lambda: registry_django_client.get(versions_url("small")))
    large = count_queries(lambda: registry_django_client.get(versions_url("large")))
    assert large == small
    assert small <= 3


def test_lineage_costs_the_same_for_short_and_long_chains(registry_django_client):
    make_chain("short", 2)
    make_chain("long", 15)
    short = count_queries(lambda: registry_django_client.get(versions_url("short", 2, "lineage")))
    long = count_queries(lambda: registry_django_client.get(versions_url("long", 15, "lineage")))
    assert long == short
    assert short <= 3


def test_registering_a_version_costs_the_same_after_many_versions():
    create_version("churn")
    first = count_queries(lambda: create_version("churn"))
    for _ in range(8):
        create_version("churn")
    later = count_queries(lambda: create_version("churn"))
    assert later == first


def test_listing_models_costs_the_same_for_one_or_eight_models(registry_django_client):
    create_version("model-0")
    one = count_queries(lambda: registry_django_client.get("/api/v1/registered-models"))
    for index in range(1, 8):
        create_version(f"model-{index}")
    eight = count_queries(lambda: registry_django_client.get("/api/v1/registered-models"))
    assert eight == one


def test_lineage_walk_stops_at_the_depth_bound():
    make_chain("deep", 6)
    walk = services.lineage("deep", 6, max_depth=3)
    assert [row.version for row in walk.ancestors] == [5, 4, 3]
    assert walk.truncated is True


def test_lineage_walk_terminates_on_a_cycle_with_bounded_queries():
    make_chain("loop", 3)
    first = ModelVersion.objects.get(model__name="loop", version=1)
    first.parent = ModelVersion.objects.get(model__name="loop", version=3)
    first.save(update_fields=["parent"])
    queries = count_queries(lambda: services.lineage("loop", 3))
    walk = services.lineage("loop", 3)
    assert [row.version for row in walk.ancestors] == [2, 1]
    assert queries <= 3
