"""Promotions delivered at least once: a redelivered or late event never undoes a newer one.

The bus may hand a replica an event again after a newer one (a redelivery after a rebalance,
a publisher that retried); the replica must keep serving what the registry has in Production.
"""

from __future__ import annotations

import pytest

from shared.backends import get_bus
from shared.events.schema import EventType
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB, pytest.mark.inference]


def promotions(consumer) -> list:
    """Return the promotion records waiting for ``consumer``, oldest first."""
    found = []
    while batch := consumer.poll(max_records=100):
        found.extend(e for e in batch if e.value.get("type") == EventType.MODEL_VERSION_PROMOTED)
    return found


def deliver_again(event) -> None:
    """Put a record on its topic once more, as a redelivery does."""
    get_bus().publish(event.topic, event.value, key=event.key)


def test_promotion_delivered_again_after_a_newer_one_keeps_the_newer_version(platform):
    watcher = get_bus().subscribe("models.versions", "test-redelivery", "earliest")
    platform.train("churn", seed=7)
    platform.train("churn", seed=8)
    platform.promote("churn", 1)
    platform.promote("churn", 2)
    assert platform.deploy("churn", 2).status_code == 200
    follower = platform.inference.state.follower
    follower.process_pending()
    first, _ = promotions(watcher)
    deliver_again(first)
    assert follower.process_pending() == 1
    body = platform.predict("churn", rows()).json()
    assert body["version"] == 2


def test_replica_catching_up_on_a_backlog_ends_on_the_current_production(platform):
    follower = platform.inference.state.follower
    for seed in (7, 8, 9):
        platform.train("churn", seed=seed)
    platform.promote("churn", 3)
    assert platform.deploy("churn", 3).status_code == 200
    follower.process_pending()
    platform.promote("churn", 1)
    platform.promote("churn", 2)
    watcher = get_bus().subscribe("models.versions", "test-backlog", "earliest")
    older = [e for e in promotions(watcher) if e.value["data"]["version"] != 2]
    for event in older:
        deliver_again(event)
    follower.process_pending()
    assert platform.predict("churn", rows()).json()["version"] == 2


def test_promotion_delivered_after_its_version_was_archived_is_not_followed(platform):
    watcher = get_bus().subscribe("models.versions", "test-archived", "earliest")
    platform.train("churn", seed=7)
    platform.train("churn", seed=8)
    platform.promote("churn", 1)
    follower = platform.inference.state.follower
    follower.process_pending()
    for version in (1, 2):  # the first version, then a candidate
        assert platform.deploy("churn", version).status_code == 200
    url = "/api/registry/api/v1/registered-models/churn/versions/1/transition"
    assert platform.gateway.post(url, json={"stage": "Archived"}).status_code == 200
    (promotion,) = promotions(watcher)
    deliver_again(promotion)
    assert follower.process_pending() == 1
    assert platform.predict("churn", rows()).json()["version"] == 2
