"""Hostile or malformed pipeline input: a 4xx problem with a message, never a 500, nothing kept."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import LINEAR, PIPELINES, VERSION, make_pipeline_env, rec, step

pytestmark = pytest.mark.pipeline
PROBLEM = "application/problem+json"


@pytest.fixture
def env():
    env = make_pipeline_env()
    env.datasets.add("clicks", VERSION, [rec(1)])
    return env


def refused(response, status: int | None = None) -> dict:
    assert 400 <= response.status_code < 500, response.text
    assert status is None or response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["error"] and body["detail"]
    return body


def nothing_stored(env, name: str = "evil") -> None:
    """Assert the refused request left nothing: the name is free and its first definition runs."""
    assert env.client.get(f"{PIPELINES}/{name}").status_code == 404
    assert env.define(name, LINEAR)["version"] == 1
    run = env.run(name)
    assert run["status"] == "succeeded" and run["id"] == "run-0001"


def test_malformed_json_is_refused(env) -> None:
    answer = env.client.post(
        PIPELINES,
        content=b'{"name": "evil", "steps": [',
        headers={"Content-Type": "application/json"},
    )
    assert refused(answer, 400)["error"] == "malformed_json"
    nothing_stored(env)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "evil", "steps": [{"name": "a", "kind": "validate", "depends_on": "b"}]},
        {"name": "evil", "steps": [{"name": "a", "kind": "validate", "run_as": "root"}]},
        {"name": "evil", "steps": [{"name": "A; DROP", "kind": "validate"}]},
    ],
)
def test_wrongly_typed_definitions_are_refused(env, body) -> None:
    refused(env.client.post(PIPELINES, json=body), 422)
    nothing_stored(env)


def test_cyclic_definition_is_refused_and_leaves_no_version_behind(env) -> None:
    steps = [step("a", "validate", "c"), step("b", "transform", "a"), step("c", "train", "b")]
    body = refused(env.client.post(PIPELINES, json={"name": "evil", "steps": steps}), 400)
    assert body["error"] == "invalid_pipeline" and "cycle" in body["detail"]
    nothing_stored(env)


def test_unknown_kind_does_not_replace_the_version_that_runs(env) -> None:
    env.define("evil", LINEAR)
    steps = [*LINEAR, step("shell", "exec", "publish", cmd="rm -rf /")]
    refused(env.client.post(PIPELINES, json={"name": "evil", "steps": steps}), 400)
    run = env.run("evil")
    assert run["version"] == 1 and run["status"] == "succeeded"
    assert [s["name"] for s in run["steps"]][-1] == "publish"


def test_huge_dag_is_refused(env) -> None:
    steps = [step(f"s{i}", "validate") for i in range(5000)]
    refused(env.client.post(PIPELINES, json={"name": "evil", "steps": steps}))
    nothing_stored(env)


@pytest.mark.parametrize("value", ["NaN"])
def test_non_finite_parameters_are_refused(env, value: str) -> None:
    step_text = '{"name": "a", "kind": "train", "params": {"lr": ' + value + "}}"
    raw = '{"name": "evil", "steps": [' + step_text + "]}"
    answer = env.client.post(PIPELINES, content=raw, headers={"Content-Type": "application/json"})
    refused(answer, 400)
    nothing_stored(env)


def test_deeply_nested_parameters_are_refused(env) -> None:
    params: dict = {}
    inner = params
    for _ in range(20):
        inner["x"] = {}
        inner = inner["x"]
    answer = env.client.post(
        PIPELINES, json={"name": "evil", "steps": [step("a", "train", **params)]}
    )
    refused(answer, 422)
    nothing_stored(env)


@pytest.mark.parametrize(
    "body",
    [
        {"dataset": "clicks", "dataset_version": VERSION, "seed": "7"},
        {"dataset": "clicks", "dataset_version": VERSION, "seed": True},
        {"dataset": "clicks", "dataset_version": VERSION, "seed": 2**40},
        {"dataset": "clicks", "dataset_version": "../../etc"},
    ],
)
def test_bad_run_requests_start_nothing_and_the_next_run_is_unaffected(env, body) -> None:
    env.define("daily", LINEAR)
    refused(env.client.post(f"{PIPELINES}/daily/runs", json=body), 422)
    assert sum(env.recorder.calls.values()) == 0
    run = env.run("daily")
    assert run["status"] == "succeeded" and run["seed"] != body.get("seed")
    assert env.client.get(f"{PIPELINES}/daily/runs").json()["total"] == 1


def test_run_of_a_pipeline_version_that_never_existed_is_not_found(env) -> None:
    env.define("daily", LINEAR)
    body = refused(env.start("daily", version=7), 404)
    assert "version 7" in body["detail"]


def test_dataset_records_with_hostile_values_are_counted_not_fatal(env) -> None:
    env.datasets.add(
        "clicks",
        "bad01",
        [rec(1), {"ts": "2024-11-03T05:31:00Z", "value": "NaN"}, {"ts": "now", "value": 1}, "x"],
    )
    env.define("daily", LINEAR[:2])
    run = env.run("daily", data_version="bad01")
    assert run["status"] == "succeeded"
    assert env.steps(run)["check"]["output"] == {
        "records": 1,
        "invalid_records": 3,
        "partitions": 1,
    }


@pytest.mark.parametrize(
    "query",
    [{}, {"dataset": "clicks", "model": "churn"}, {"model": "a b"}],
)
def test_lineage_needs_exactly_one_well_formed_subject(env, query) -> None:
    refused(env.client.get("/api/v1/lineage", params=query), 422)
