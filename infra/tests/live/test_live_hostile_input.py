"""Hostile input against the models service on the real PostgreSQL: 4xx problems, never a
500, nothing stored (PostgreSQL refuses NUL in text where SQLite stores it)."""

from __future__ import annotations

import httpx
import pytest

from infra.tests.live.support import unique
from shared.clients.inprocess import InProcessTransport
from shared.infra_settings import sqlalchemy_url

MODELS = "/api/v1/models"


@pytest.fixture
def models_api(infra_settings):
    from services.models.config import Settings
    from services.models.main import create_app

    url = sqlalchemy_url(infra_settings.database_url("models_db"))
    app = create_app(Settings(database_url=url, create_schema=True))
    with httpx.Client(
        transport=InProcessTransport({"models": app}), base_url="http://models"
    ) as client:
        yield client


def model_body(name: str, **overrides: object) -> dict[str, object]:
    """Return a valid create body with ``overrides`` applied."""
    body: dict[str, object] = {
        "name": name,
        "task": "classification",
        "owner": "live",
        "input_schema": {"features": ["a", "b"]},
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    "overrides",
    [{"description": "a\x00b"}, {"owner": "o\x00"}, {"tags": ["x\x00"]}, {"owner": "o\x1b"}],
    ids=["nul-description", "nul-owner", "nul-tag", "escape-owner"],
)
def test_control_characters_in_text_are_422_and_store_nothing(models_api, overrides):
    name = unique("live-h")
    response = models_api.post(MODELS, json=model_body(name, **overrides))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert models_api.get(f"{MODELS}/{name}").status_code == 404


@pytest.mark.parametrize(
    "target",
    [f"{MODELS}/a%00b", f"{MODELS}?owner=a%00b", f"{MODELS}?offset={2**64}", f"{MODELS}?limit=-1"],
    ids=["nul-path", "nul-filter", "offset-past-64-bits", "negative-limit"],
)
def test_hostile_lookups_are_4xx_problems(models_api, target):
    response = models_api.get(target)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] in ("bad_request", "validation_error")
