"""The pipeline's API answers and event payloads keep the shapes their documents declare."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.events.schema import EVENT_SPECS, EventType, from_dict, to_dict
from tests.utils.pipeline import LINEAR, PIPELINES, VERSION, make_pipeline_env, rec, transient

pytestmark = pytest.mark.pipeline


@pytest.fixture
def env():
    env = make_pipeline_env()
    env.datasets.add("clicks", VERSION, [rec(1), rec(5)])
    return env


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


def test_definition_and_run_answers_match_the_openapi_document(env) -> None:
    document = env.client.get("/openapi.json").json()
    created = env.client.post(PIPELINES, json={"name": "daily", "steps": LINEAR})
    check_declared(document, "post", PIPELINES, created)
    started = env.start("daily")
    check_declared(document, "post", PIPELINES + "/{name}/runs", started)
    run = env.client.get(f"/api/v1/runs/{started.json()['id']}")
    check_declared(document, "get", "/api/v1/runs/{run_id}", run)
    assert run.json()["status"] == "succeeded"


def test_refusals_are_declared_problems(env) -> None:
    document = env.client.get("/openapi.json").json()
    cycle = [{"name": "a", "kind": "validate", "depends_on": ["a"]}]
    refused = env.client.post(PIPELINES, json={"name": "loop", "steps": cycle})
    check_declared(document, "post", PIPELINES, refused)
    missing = env.client.get("/api/v1/runs/run-0404")
    check_declared(document, "get", "/api/v1/runs/{run_id}", missing)
    unknown = env.start("ghost")
    check_declared(document, "post", PIPELINES + "/{name}/runs", unknown)


def test_run_events_carry_the_declared_fields(env) -> None:
    env.define("daily", LINEAR)
    env.run("daily")
    events = env.events()
    for envelope in events:
        assert from_dict(to_dict(envelope)) == envelope
        assert set(EVENT_SPECS[envelope.type].fields) <= set(envelope.data)
    assert {e.source for e in events} == {"pipeline"}
    assert {e.topic for e in events} == {"pipeline.runs"}
    assert [e.type for e in events] == [
        EventType.PIPELINE_RUN_STARTED,
        EventType.PIPELINE_RUN_SUCCEEDED,
    ]


def test_run_events_are_keyed_by_pipeline_so_one_pipeline_stays_ordered(env) -> None:
    env.define("daily", LINEAR)
    env.run("daily")
    env.run("daily")
    consumer = env.bus.subscribe(["pipeline.runs"], "contract-keys", "earliest")
    records = consumer.poll(max_records=50)
    assert [r.value["type"] for r in records].count("pipeline.run.succeeded") == 2
    assert {r.key for r in records} == {"daily"}
    assert len({r.partition for r in records}) == 1


def test_dead_letter_names_the_step_its_attempts_and_the_last_error(env) -> None:
    env.define("daily", LINEAR)
    env.recorder.fail("fit", transient("a"), transient("b"), transient("training answered 503"))
    run = env.run("daily")
    [letter] = env.events("pipeline.dead-letters")
    assert letter.type == EventType.PIPELINE_STEP_DEAD_LETTERED
    assert letter.data == {
        "pipeline": "daily",
        "version": 1,
        "run_id": run["id"],
        "dataset": "clicks",
        "dataset_version": VERSION,
        "step": "fit",
        "attempts": 3,
        "error": "training answered 503",
    }
