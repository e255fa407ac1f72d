"""Held-out: the models catalogue when another writer takes a name first, with other payloads."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.utils.models import MODELS_URL, make_models_env, model_payload

pytestmark = pytest.mark.models


@pytest.fixture
def env():
    env = make_models_env()
    yield env
    env.client.close()


def test_tagged_model_whose_name_another_writer_took_first_is_a_409(env):
    state = {"fired": False}

    def race(conn, cursor, statement, parameters, context, executemany):
        if not state["fired"] and statement.startswith("INSERT INTO model_metadata"):
            state["fired"] = True
            conn.connection.driver_connection.execute(statement, parameters).close()

    event.listen(env.engine, "before_cursor_execute", race)
    payload = model_payload(name="ltv-regressor", tags=["finance", "weekly"])
    response = env.client.post(MODELS_URL, json=payload)
    assert state["fired"]
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    follow_up = env.client.post(MODELS_URL, json=model_payload(name="ltv-regressor-v2"))
    assert follow_up.status_code == 201
