"""Following promotions through replica failures: what a replica serves once it is back."""

from __future__ import annotations

from contextlib import suppress

import pytest

from services.inference.events import PromotionFollower
from shared.backends import get_bus
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB, pytest.mark.inference]


def restart_follower(platform):
    """Start the follower a restarted replica runs: same server state, same consumer group."""
    state = platform.inference.state
    return PromotionFollower(state.server, state.registry, get_bus(), state.settings.events_group)


def test_replica_that_crashed_while_following_a_promotion_serves_it_after_restart(
    platform, monkeypatch
):
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    assert platform.deploy("churn", v1.version).status_code == 200
    platform.promote("churn", v2.version)

    def out_of_memory(name, version, **_):
        raise MemoryError("cannot allocate the model")

    follower = platform.inference.state.follower
    with monkeypatch.context() as patch:
        patch.setattr(platform.server, "deploy", out_of_memory)
        with suppress(MemoryError):  # the replica's process exits here
            follower.process_pending()
    follower.close()  # the dead process's membership ends; the group rebalances

    restarted = restart_follower(platform)
    restarted.process_pending()
    body = platform.predict("churn", rows()).json()
    assert body["version"] == v2.version
    restarted.close()
