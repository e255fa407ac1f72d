"""Every storage answer a client can meet has its status declared in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.problems import DESCRIPTIONS
from tests.utils.storage import make_storage_env, sha256

pytestmark = pytest.mark.storage

GHOST = "0" * 32
PART = "/api/v1/uploads/{session_id}/parts/{number}"
UPLOAD = "/api/v1/uploads/{session_id}"
VERSIONS = "/api/v1/datasets/{dataset}/versions"
PROBLEM = "application/problem+json"


def check_declared(document: dict[str, Any], method: str, path: str, response: Any) -> None:
    """Assert the answer's status is declared for the operation and its body has that shape."""
    responses = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answered undeclared {status}"
    content = responses[status].get("content") or {}
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, (path, status, media_type, sorted(content))
    schema = {**content[media_type].get("schema", {}), "components": document["components"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.json())]
    assert errors == [], (path, status, errors)


def test_upload_session_errors_are_declared_problems():
    env = make_storage_env()
    document = env.client.get("/openapi.json").json()
    data = b"part one"
    headers = {"Content-Type": "application/octet-stream", "X-Content-SHA256": sha256(data)}
    part = env.client.put(PART.format(session_id=GHOST, number=1), content=data, headers=headers)
    assert (part.status_code, part.headers["content-type"]) == (404, PROBLEM)
    check_declared(document, "put", PART, part)
    session = env.client.get(UPLOAD.format(session_id=GHOST))
    assert session.status_code == 404
    check_declared(document, "get", UPLOAD, session)


def test_dataset_version_answers_are_declared():
    env = make_storage_env()
    document = env.client.get("/openapi.json").json()
    assert env.put("datasets", "churn/train.csv", b"a,b\n1,2\n").status_code == 201
    url = VERSIONS.format(dataset="churn")
    cases = [
        ({"keys": ["churn/train.csv"]}, 201),
        ({"keys": ["churn/missing.csv"]}, 404),
        ({"keys": []}, 422),
    ]
    for body, expected in cases:
        response = env.client.post(url, json=body)
        assert response.status_code == expected, (body, response.text)
        check_declared(document, "post", VERSIONS, response)


def test_storage_documents_only_error_statuses_of_the_platform_vocabulary():
    document = make_storage_env().client.get("/openapi.json").json()
    # 403: a presigned URL that expired or was altered; 416: a range past the end
    known = {str(status) for status in (*DESCRIPTIONS, 403, 416)}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {s for s in operation["responses"] if s.startswith(("4", "5"))}
            assert errors <= known, (method.upper(), path, sorted(errors - known))
