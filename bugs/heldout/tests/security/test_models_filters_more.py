"""Held-out: list filters with other pattern characters, owners and tags."""

from __future__ import annotations

import pytest

from tests.utils.models import MODELS_URL, make_models_env

pytestmark = pytest.mark.models


@pytest.fixture
def env():
    env = make_models_env()
    yield env
    env.client.close()


def test_owner_and_tag_filters_with_wildcards_match_nothing_but_themselves(env):
    env.create(name="model-one", owner="Team-A", tags=["batch"])
    env.create(name="model-two", owner="team-a", tags=["b-tch"])
    env.create(name="model-three", owner="t_am-a", tags=["b_tch"])
    for params, names in [
        ({"owner": "team-a"}, ["model-two"]),
        ({"owner": "t_am-a"}, ["model-three"]),
        ({"owner": "%-a"}, []),
        ({"tag": "b-tch"}, ["model-two"]),
        ({"tag": "b_tch"}, ["model-three"]),
    ]:
        body = env.client.get(MODELS_URL, params=params).json()
        assert sorted(item["name"] for item in body["items"]) == names, params
