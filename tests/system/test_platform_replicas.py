"""Several inference replicas on one slice: each follows the registry's Production on its own.

The replicas share the registry, the bus, the cache and object storage, as replicas of one
deployment do; each is driven through its own HTTP API, and each handles the events waiting
for it when the test asks it to.
"""

from __future__ import annotations

import pytest

from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB, pytest.mark.inference]


def catch_up(*apps) -> None:
    """Let every replica handle the events waiting for it."""
    for app in apps:
        app.state.follower.process_pending()


def served_version(replica, name: str) -> int:
    response = replica.predict(name, rows())
    assert response.status_code == 200, response.text
    return response.json()["version"]


def test_every_replica_follows_a_promotion(platform):
    second = platform.start_replica()
    platform.train("churn", seed=7)
    platform.promote("churn", 1)
    for replica in (platform, second):
        assert replica.deploy("churn", 1).status_code == 200
    platform.train("churn", seed=8)
    platform.promote("churn", 2)
    catch_up(platform.inference, second.app)
    assert [served_version(replica, "churn") for replica in (platform, second)] == [2, 2]


def test_replicas_serving_a_candidate_return_to_the_promoted_version(platform):
    second = platform.start_replica()
    platform.train("churn", seed=7)
    platform.train("churn", seed=8)
    for replica in (platform, second):
        assert replica.deploy("churn", 2).status_code == 200
    platform.promote("churn", 1)
    catch_up(platform.inference, second.app)
    assert [served_version(replica, "churn") for replica in (platform, second)] == [1, 1]


def test_version_registered_after_a_refused_deploy_is_served(platform):
    refused = platform.deploy("churn", 1)
    assert refused.status_code == 404, refused.text
    trained = platform.train("churn")
    catch_up(platform.inference)
    response = platform.deploy("churn", trained.version)
    assert response.status_code == 200, response.text
    assert served_version(platform, "churn") == trained.version
