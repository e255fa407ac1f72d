"""Per-version stats, shadow comparisons and replica limits read from the environment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from shared.backends import get_bus
from shared.events.schema import read_event
from tests.utils.inference import (
    BUCKET_KEYS,
    ROWS,
    deploy_ok,
    make_artifact,
    make_env,
    running,
    served_version,
    split,
)

pytestmark = pytest.mark.inference

STATS = "/api/v1/deployments/churn/stats"


class StepClock:
    """A clock that advances by ``step`` seconds on every reading."""

    def __init__(self, step: float) -> None:
        self.ticks = itertools.count()
        self.step = step

    def __call__(self) -> float:
        return next(self.ticks) * self.step


def publish_all(env):
    env.publish("churn", 1, make_artifact("linear", seed=1))
    env.publish("churn", 2, make_artifact("linear", seed=2), stage="Staging")
    env.publish("churn", 3, make_artifact("linear", seed=1), stage="Staging")
    return env


@pytest.fixture
def env(tmp_path):
    return publish_all(make_env(tmp_path, clock=StepClock(0.03)))


@pytest.fixture
def client(env):
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        yield client


def by_version(stats):
    return {v["version"]: v for v in stats["versions"]}


def test_stats_count_requests_per_routed_version(client):
    assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
    for bucket in (0, 8999, 9000, 9999, 0):
        served_version(client, "churn", BUCKET_KEYS[bucket])
    versions = by_version(client.get(STATS).json())
    assert (versions[1]["requests"], versions[2]["requests"]) == (3, 2)
    assert (versions[1]["role"], versions[2]["role"]) == ("primary", "routed")


def test_stats_count_errors_against_the_version_that_failed(client):
    assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
    bad = {"instances": [{"tenure": 1.0}], "key": BUCKET_KEYS[9999]}
    assert client.post("/api/v1/models/churn/predict", json=bad).status_code == 422
    versions = by_version(client.get(STATS).json())
    assert (versions[1]["errors"], versions[2]["errors"]) == (0, 1)


def test_latency_lands_in_its_histogram_bucket(client):
    served_version(client, "churn", None)
    latency = by_version(client.get(STATS).json())[1]["latency"]
    assert latency["le"][3] == 0.05
    assert latency["counts"][3] == 1
    assert sum(latency["counts"]) == 1


def test_stats_report_the_routing_table(client):
    assert split(client, "churn", {1: "99.5", 2: "0.5"}).status_code == 200
    routing = client.get(STATS).json()["routing"]
    assert [r["buckets"] for r in routing["routes"]] == [9950, 50]


def test_stats_of_a_model_that_is_not_deployed_are_404(client):
    response = client.get("/api/v1/deployments/other/stats")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_shadow_answers_are_compared_and_never_returned(client):
    assert split(client, "churn", {1: 100}, shadow=2).status_code == 200
    body = client.post("/api/v1/models/churn/predict", json={"instances": ROWS, "key": "k"}).json()
    shadow = by_version(client.get(STATS).json())[2]
    assert body["version"] == 1
    assert shadow["role"] == "shadow"
    assert shadow["requests"] == 1
    assert shadow["shadow"]["compared"] == 1


def test_shadow_with_the_same_weights_agrees(client):
    assert split(client, "churn", {1: 100}, shadow=3).status_code == 200
    for key in ("a", "b"):
        served_version(client, "churn", key, ROWS)
    assert by_version(client.get(STATS).json())[3]["shadow"] == {
        "compared": 2,
        "agreed": 2,
        "errors": 0,
    }


def test_shadow_with_other_weights_disagrees(client):
    assert split(client, "churn", {1: 100}, shadow=2).status_code == 200
    served_version(client, "churn", "a", ROWS)
    assert by_version(client.get(STATS).json())[2]["shadow"]["agreed"] == 0


def test_promoted_canary_is_announced_with_its_predecessor(client):
    consumer = get_bus().subscribe(["inference.deployments"], "traffic-observer", "earliest")
    assert split(client, "churn", {1: 90, 2: 10}).status_code == 200
    client.post("/api/v1/deployments/churn/routing/promote", json={"version": 2})
    swapped = [read_event(e).data for e in consumer.poll(max_records=100)]
    assert swapped[-1] == {"name": "churn", "version": 2, "previous_version": 1}


def test_replica_limit_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNAPSE_INFERENCE_MAX_IN_FLIGHT", "3")
    monkeypatch.setenv("SYNAPSE_INFERENCE_MAX_QUEUED", "5")
    env = publish_all(make_env(tmp_path))
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        admission = client.get(STATS).json()["admission"]
    assert (admission["max_in_flight"], admission["max_queued"]) == (3, 5)


def test_shadow_that_cannot_read_the_request_counts_an_error_and_the_caller_is_served(env):
    extra = make_artifact("linear", seed=4)
    wider = type(extra)(
        "linear",
        {"W": np.ones(4, dtype=np.float32), "b": np.float32(0.0)},
        [*extra.input_schema, "region_code"],
        {},
    )
    env.publish("churn", 4, wider, stage="Staging")
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        assert split(client, "churn", {1: 100}, shadow=4).status_code == 200
        assert served_version(client, "churn", "a", ROWS) == 1
        shadow = by_version(client.get(STATS).json())[4]
    assert (shadow["requests"], shadow["errors"]) == (1, 1)
    assert shadow["shadow"] == {"compared": 0, "agreed": 0, "errors": 1}


def test_deployment_list_says_the_deployed_model_is_loaded(client):
    served_version(client, "churn", "a", ROWS)
    listed = client.get("/api/v1/deployments").json()
    assert [(d["name"], d["version"], d["loaded"]) for d in listed["items"]] == [("churn", 1, True)]


def test_a_split_between_more_than_sixteen_versions_is_refused_before_any_lookup(client):
    seventeen = {v: 6 if v <= 16 else 4 for v in range(1, 18)}
    assert split(client, "churn", seventeen).status_code == 422
    sixteen = split(client, "churn", {v: 6.25 for v in range(1, 17)})
    assert sixteen.status_code == 404
