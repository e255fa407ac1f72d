"""Held-out: statements per listing for other filters, offsets and page sizes."""

from __future__ import annotations

import pytest

from tests.utils.models import MODELS_URL, count_statements, make_models_env

pytestmark = pytest.mark.models


def test_owner_filtered_pages_past_an_offset_cost_the_same_for_two_or_four_rows():
    env = make_models_env()
    for i in range(10):
        owner = "risk" if i % 2 else "growth"
        env.create(name=f"scorer-{i:02d}", tags=[f"q{i % 4}", "batch"][: 1 + i % 2], owner=owner)
    counts = []
    for limit in (2, 4):
        with count_statements(env.engine) as statements:
            response = env.client.get(
                MODELS_URL, params={"owner": "risk", "limit": limit, "offset": 1}
            )
        assert response.status_code == 200
        assert len(response.json()["items"]) == limit
        counts.append(len(statements))
    env.client.close()
    assert counts[0] == counts[1] <= 3
