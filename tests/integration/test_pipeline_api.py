"""The pipeline API end to end: versioned definitions, runs of pinned versions, lineage."""

from __future__ import annotations

import pytest

from tests.utils.pipeline import LINEAR, PIPELINES, VERSION, make_pipeline_env, rec, step

pytestmark = pytest.mark.pipeline


@pytest.fixture
def env():
    env = make_pipeline_env()
    env.datasets.add("clicks", VERSION, [rec(1), rec(5), rec(70)])
    return env


def test_declared_pipeline_reports_its_execution_order(env) -> None:
    body = env.define("daily", list(reversed(LINEAR)))
    assert body["version"] == 1
    assert body["order"] == ["check", "hourly", "features", "fit", "score", "publish"]
    assert [s["name"] for s in env.run("daily")["steps"] if s["status"] == "succeeded"] == [
        "check",
        "hourly",
        "features",
        "fit",
        "score",
        "publish",
    ]


def test_declaring_the_same_definition_again_keeps_its_version(env) -> None:
    first = env.define("daily", LINEAR)
    again = env.client.post(PIPELINES, json={"name": "daily", "steps": list(reversed(LINEAR))})
    assert again.status_code == 200
    assert again.json()["version"] == first["version"] == 1
    assert env.run("daily")["version"] == 1


def test_changed_definition_becomes_the_next_version(env) -> None:
    env.define("daily", LINEAR)
    changed = [*LINEAR[:-1], step("publish", "register", "score", note="v2")]
    assert env.define("daily", changed)["version"] == 2
    assert env.client.get(f"{PIPELINES}/daily/versions/1").json()["steps"][-1]["params"] == {}
    run = env.run("daily")
    assert (run["version"], run["status"]) == (2, "succeeded")


def test_run_executes_every_step_once_in_order(env) -> None:
    env.define("daily", LINEAR)
    run = env.run("daily")
    assert run["status"] == "succeeded"
    assert [c.step for c in env.recorder.contexts] == [s["name"] for s in run["steps"]]
    assert all(s["status"] == "succeeded" and s["attempts"] == 1 for s in run["steps"])


def test_run_keeps_the_version_it_pinned_after_a_redefinition(env) -> None:
    env.define("daily", LINEAR)
    env.define("daily", LINEAR[:2])
    run = env.run("daily", version=1)
    assert (run["version"], run["status"]) == (1, "succeeded")
    assert len(run["steps"]) == 6 and env.recorder.calls["publish"] == 1


def test_run_output_carries_the_registered_model(env) -> None:
    env.define("daily", LINEAR)
    run = env.run("daily")
    assert env.steps(run)["publish"]["output"] == {"model": "churn", "model_version": 1}


def test_run_announces_start_and_success(env) -> None:
    env.define("daily", LINEAR)
    run = env.run("daily")
    events = env.events()
    assert [e.type.value for e in events] == ["pipeline.run.started", "pipeline.run.succeeded"]
    assert {e.data["run_id"] for e in events} == {run["id"]}
    assert events[1].data["dataset_version"] == VERSION


def test_metric_below_its_threshold_fails_the_run_without_registering(env) -> None:
    steps = [*LINEAR[:4], step("score", "evaluate", "fit", min={"accuracy": 0.95}), LINEAR[5]]
    env.define("daily", steps)
    run = env.run("daily")
    assert run["status"] == "failed"
    assert env.steps(run)["score"]["attempts"] == 1
    assert env.steps(run)["publish"]["status"] == "pending"
    assert env.events("pipeline.dead-letters") == []


def test_runs_are_listed_newest_first(env) -> None:
    env.define("daily", LINEAR)
    first = env.run("daily")
    env.clock.advance(60)
    second = env.run("daily")
    page = env.client.get(f"{PIPELINES}/daily/runs").json()
    assert [r["id"] for r in page["items"]] == [second["id"], first["id"]] and page["total"] == 2
    assert [r["status"] for r in page["items"]] == ["succeeded", "succeeded"]


def test_lineage_links_a_dataset_version_to_its_views_and_model(env) -> None:
    env.define("daily", LINEAR)
    run = env.run("daily")
    items = env.client.get("/api/v1/lineage", params={"dataset": "clicks"}).json()["items"]
    assert [(i["kind"], i["name"], i["version"]) for i in items] == [
        ("feature_view", "clicks_hourly", None),
        ("model_version", "churn", 1),
    ]
    assert {i["run_id"] for i in items} == {run["id"]}


def test_lineage_of_a_model_version_names_its_dataset_version(env) -> None:
    env.define("daily", LINEAR)
    env.run("daily")
    env.datasets.add("clicks", "9e2b", [rec(2)])
    env.run("daily", data_version="9e2b")
    query = {"model": "churn", "model_version": 2}
    items = env.client.get("/api/v1/lineage", params=query).json()["items"]
    assert {(i["dataset"], i["dataset_version"]) for i in items} == {("clicks", "9e2b")}
    assert sorted(i["kind"] for i in items) == ["feature_view", "model_version"]


def test_unknown_pipeline_and_run_answer_404(env) -> None:
    assert env.start("nope").status_code == 404
    missing = env.client.get("/api/v1/runs/run-9999")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_resuming_a_finished_run_is_a_conflict(env) -> None:
    env.define("daily", LINEAR[:1])
    run = env.run("daily")
    answer = env.client.post(f"/api/v1/runs/{run['id']}/resume")
    assert answer.status_code == 409


def test_service_is_ready_once_its_tables_exist(env) -> None:
    ready = env.client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["status"] == "ok"
