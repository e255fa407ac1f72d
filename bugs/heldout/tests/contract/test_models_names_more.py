"""Held-out: model-name slug rules with other broken and valid names."""

from __future__ import annotations

import pytest

from tests.utils.models import MODELS_URL, make_models_env, model_payload

pytestmark = pytest.mark.models


def test_names_with_a_valid_slug_inside_other_characters_are_rejected():
    env = make_models_env()
    try:
        for name in ["fraud.v2", "x-ray!", "(abc)", "abc-def/", "Ranker-2", "ranker-2 "]:
            response = env.client.post(MODELS_URL, json=model_payload(name=name))
            assert response.status_code == 422, name
        assert env.client.post(MODELS_URL, json=model_payload(name="ranker-2")).status_code == 201
    finally:
        env.client.close()
