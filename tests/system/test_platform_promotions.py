"""Promotions reach serving replicas: what a replica serves after the registry promotes.

Inference follows ``model.version.promoted`` on the bus (tests call ``process_pending()``
where a running replica's background thread would poll). Flows go through the gateway.
"""

from __future__ import annotations

import pytest

from services.inference.registry_cache import record_key
from shared.backends import get_cache
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
