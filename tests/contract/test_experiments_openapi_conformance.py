"""Every experiments answer has its status and body shape declared in the OpenAPI document."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

from tests.utils.experiments import EXPERIMENTS_DB, RUNS, ExperimentsAPI, point

pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]

RUN = "/api/v1/runs/{run_id}"
GHOST = "0" * 32
PROBLEM_REF = "#/components/schemas/Problem"
BAD_KEY = "bad key!"

# (method, documented path, run: the run's id or GHOST, query, JSON body or raw bytes).
CASES: list[tuple[str, str, str, dict[str, str], Any]] = [
    ("get", RUNS, "", {}, None),
    ("post", RUNS, "", {}, {"experiment": "churn-search"}),
    ("post", RUNS, "", {}, b"{not json"),
    ("get", RUN, "run", {}, None),
    ("get", RUN, GHOST, {}, None),
    ("post", RUN + "/tags", "run", {}, {"tags": {"team": "growth"}}),
    ("post", RUN + "/tags", GHOST, {}, {"tags": {"team": "growth"}}),
    ("post", RUN + "/metrics", "run", {}, {"points": [point("loss", 0.5, 0)]}),
    ("get", RUN + "/metrics", "run", {"key": "loss"}, None),
    ("get", RUN + "/metrics", "run", {"key": BAD_KEY}, None),
    ("get", RUN + "/lineage", "run", {}, None),
    ("get", RUN + "/lineage", GHOST, {}, None),
    ("post", RUN + "/artifacts", "run", {}, {"path": "model.npz", "uri": "s3://a/model.npz"}),
    ("get", RUN + "/artifacts", "run", {}, None),
    ("get", RUN + "/artifacts", GHOST, {}, None),
    ("post", RUN + "/fork", "run", {}, {}),
    ("post", RUN + "/end", "run", {}, {"status": "finished"}),
    ("post", RUN + "/end", "run", {}, {"status": "finished"}),
]


@functools.cache
def experiments_openapi() -> dict[str, Any]:
    """Build the experiments OpenAPI document once; building it reads no database."""
    return SchemaGenerator(urlconf="services.experiments.urls").get_schema(
        request=None, public=True
    )


def send(api: ExperimentsAPI, method: str, url: str, query: dict[str, str], body: Any) -> Any:
    """Send one request the way a client would."""
    if method == "get":
        return api.get(url, **query)
    return api.post(url, body)


def declared_schema(document: dict, method: str, path: str, status: int) -> tuple[str, dict]:
    """Return the (media type, schema) an operation declares for a status; fail if undeclared."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered undeclared {status}"
    ((media_type, content),) = responses[str(status)]["content"].items()
    return media_type, content["schema"]


def test_every_experiments_answer_is_declared_with_its_body_shape(experiments_api):
    document = experiments_openapi()
    run_id = experiments_api.start()["run_id"]
    for method, path, run, query, body in CASES:
        url = path.format(run_id=run_id if run == "run" else run)
        response = send(experiments_api, method, url, query, body)
        media_type, schema = declared_schema(document, method, path, response.status_code)
        assert response["Content-Type"] == media_type, (method, url, response.content[:200])
        if response.status_code >= 400:
            assert schema == {"$ref": PROBLEM_REF}
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [e.message for e in validator.iter_errors(response.json())]
        assert errors == [], (method, url, errors)


def test_list_answers_are_declared_as_arrays(experiments_api):
    document = experiments_openapi()
    run_id = experiments_api.start()["run_id"]
    experiments_api.log(run_id, [point("loss", 0.5, 0), point("loss", 0.25, 1)])
    for suffix, query in (("/metrics", {"key": "loss"}), ("/lineage", {}), ("/artifacts", {})):
        _, schema = declared_schema(document, "get", RUN + suffix, 200)
        assert schema.get("type") == "array", (suffix, json.dumps(schema))
        body = experiments_api.ok(experiments_api.get(f"{RUNS}/{run_id}{suffix}", **query))
        assert isinstance(body, list)
