"""Work done by the models service per request, counted in SQL statements."""

from __future__ import annotations

import pytest

from tests.utils.models import MODELS_URL, count_statements, make_models_env

pytestmark = pytest.mark.models


@pytest.fixture
def env():
    env = make_models_env()
    for i in range(12):
        env.create(name=f"model-{i:02d}", tags=["eu", f"t{i}", "prod"], owner="ops")
    yield env
    env.client.close()


def list_statements(env, **params) -> list[str]:
    with count_statements(env.engine) as statements:
        response = env.client.get(MODELS_URL, params=params)
    assert response.status_code == 200
    return statements


def test_list_statement_count_does_not_grow_with_page_size(env):
    small = list_statements(env, limit=2)
    large = list_statements(env, limit=12)
    assert len(small) == len(large) <= 3


def test_list_with_tag_filter_does_not_grow_with_page_size(env):
    small = list_statements(env, limit=1, tag="prod")
    large = list_statements(env, limit=10, tag="prod")
    assert len(small) == len(large) <= 3


def test_list_counts_matches_with_a_single_query(env):
    statements = list_statements(env, limit=5, owner="ops")
    assert sum("count(" in s.lower() for s in statements) == 1


def test_reading_one_model_takes_at_most_two_statements(env):
    with count_statements(env.engine) as statements:
        assert env.client.get(f"{MODELS_URL}/model-03").status_code == 200
    assert len(statements) <= 2
