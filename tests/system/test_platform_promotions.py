"""Promotions reach serving replicas: what a replica serves after the registry promotes.

Inference follows ``model.version.promoted`` on the bus (tests call ``process_pending()``
where a running replica's background thread would poll). Flows go through the gateway.
"""

from __future__ import annotations

import pytest

from services.inference.registry_cache import record_key
from shared.backends import get_bus, get_cache
from shared.events.schema import read_event
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB, pytest.mark.inference]


def served_version(platform, name: str) -> int:
    response = platform.predict(name, rows())
    assert response.status_code == 200, response.text
    return response.json()["version"]


def test_replica_following_promotions_made_in_quick_succession_serves_the_last_one(platform):
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    assert platform.deploy("churn", v1.version).status_code == 200
    platform.promote("churn", v1.version)
    platform.promote("churn", v2.version)
    platform.inference.state.follower.process_pending()
    assert served_version(platform, "churn") == v2.version
    assert platform.version("churn", v2.version)["stage"] == "Production"


def test_promoting_an_older_version_moves_the_replica_back_to_it(platform):
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    follower = platform.inference.state.follower
    platform.promote("churn", v2.version)
    follower.process_pending()
    assert platform.deploy("churn", v2.version).status_code == 200
    assert served_version(platform, "churn") == v2.version
    platform.promote("churn", v1.version)
    follower.process_pending()
    assert served_version(platform, "churn") == v1.version
    # Nothing this replica keeps still describes the replaced version as the registry did.
    cached = get_cache().get_json(record_key("churn", v2.version))
    assert cached in (None, platform.version("churn", v2.version))


def test_a_promotion_the_replica_cannot_serve_is_not_announced_as_deployed(platform):
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    assert platform.deploy("churn", v1.version).status_code == 200
    deployments = get_bus().subscribe("inference.deployments", "test-deployments", "latest")
    assert deployments.poll() == []
    platform.artifact_path("churn", v2.version).write_bytes(b"not a model")
    platform.promote("churn", v2.version)
    platform.inference.state.follower.process_pending()
    assert served_version(platform, "churn") == v1.version
    announced = [read_event(event).data for event in deployments.poll(max_records=100)]
    assert [(d["version"], d["previous_version"]) for d in announced] == []
