"""Apps built from one service router each serve their own state, validation and overrides."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.web import create_service_app, include_routes

pytestmark = pytest.mark.gateway


class Greeting(BaseModel):
    name: str


def default_punctuation() -> str:
    return "."


router = APIRouter(prefix="/api/v1")


@router.post("/greet")
def greet(body: Greeting, request: Request, mark: str = Depends(default_punctuation)) -> dict:
    return {"text": f"{request.app.state.greeting}, {body.name}{mark}"}


def build(greeting: str) -> TestClient:
    app = create_service_app("gateway")
    app.state.greeting = greeting
    include_routes(app, router)
    return TestClient(app)


def test_each_app_answers_from_its_own_state():
    first, second = build("hello"), build("bonjour")
    assert first.post("/api/v1/greet", json={"name": "ana"}).json() == {"text": "hello, ana."}
    assert second.post("/api/v1/greet", json={"name": "ana"}).json() == {"text": "bonjour, ana."}
    assert first.post("/api/v1/greet", json={"name": "bo"}).json() == {"text": "hello, bo."}


def test_a_later_app_still_validates_bodies_and_documents_the_route():
    build("hello")
    later = build("hi")
    refused = later.post("/api/v1/greet", json={"name": 3})
    assert refused.status_code == 422
    assert "/api/v1/greet" in later.get("/openapi.json").json()["paths"]


def test_dependency_overrides_apply_to_their_own_app_only():
    plain, excited = build("hello"), build("hey")
    excited.app.dependency_overrides[default_punctuation] = lambda: "!"  # type: ignore[attr-defined]
    assert excited.post("/api/v1/greet", json={"name": "ana"}).json() == {"text": "hey, ana!"}
    assert plain.post("/api/v1/greet", json={"name": "ana"}).json() == {"text": "hello, ana."}
