"""Every documented operation of each FastAPI service answers in the shape its OpenAPI declares.

One request per operation, built from the document itself (path parameters from their
pattern's simplest value, an empty JSON object as body): the answer's status must be
declared and its body must validate against the schema declared for that status and media
type. `make fuzz` explores the same documents in breadth; this is the fast guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from tests.utils.gateway import make_gateway_env
from tests.utils.inference import make_env as make_inference_env
from tests.utils.inference import running
from tests.utils.models import make_models_env
from tests.utils.training import make_training_env

PATH_VALUES = {"service": "models", "path": "api/v1/models", "name": "m1", "job_id": "j1"}


@contextmanager
def models_client(_: Path) -> Iterator[TestClient]:
    yield make_models_env().client


@contextmanager
def training_client(root: Path) -> Iterator[TestClient]:
    yield make_training_env(root).client


@contextmanager
def inference_client(root: Path) -> Iterator[TestClient]:
    with running(make_inference_env(root)) as client:
        yield client


@contextmanager
def gateway_client(_: Path) -> Iterator[TestClient]:
    yield make_gateway_env().client


CLIENTS: dict[str, Callable[[Path], Any]] = {
    "models": models_client,
    "training": training_client,
    "inference": inference_client,
    "gateway": gateway_client,
}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (method, concrete path, operation) for every documented operation."""
    for template, methods in document["paths"].items():
        path = template
        for name, value in PATH_VALUES.items():
            path = path.replace("{" + name + "}", value)
        for method, operation in methods.items():
            yield method.upper(), path, operation


def check_answer(document: dict[str, Any], operation: dict[str, Any], response: Any) -> None:
    """Assert the status is declared and the body validates against its declared schema."""
    declared = operation["responses"]
    status = str(response.status_code)
    assert status in declared or "default" in declared, (status, sorted(declared))
    content = declared.get(status, declared.get("default", {})).get("content") or {}
    media_type = response.headers.get("content-type", "").split(";")[0]
    if not content or not response.content:
        return
    assert media_type in content, (status, media_type, sorted(content))
    schema = content[media_type].get("schema")
    if schema:
        resolver = {"components": document["components"], **schema}
        jsonschema.validate(response.json(), resolver)


@pytest.mark.parametrize(
    "service", [pytest.param(name, marks=getattr(pytest.mark, name)) for name in sorted(CLIENTS)]
)
def test_every_documented_operation_answers_in_its_declared_shape(service, tmp_path):
    with CLIENTS[service](tmp_path) as client:
        document = client.get("/openapi.json").json()
        assert "Problem" in document["components"]["schemas"]
        for method, path, operation in operations(document):
            body = {} if "requestBody" in operation else None
            response = client.request(method, path, json=body)
            check_answer(document, operation, response)
