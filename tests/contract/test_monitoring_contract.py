"""The monitoring API and the events around it: shapes, exposition, problems for bad input."""

from __future__ import annotations

import math
import uuid

import pytest

from shared.backends import get_bus
from shared.events.schema import EVENT_SPECS, EventType, read_event
from tests.utils.inference import ROWS, deploy_ok, make_artifact, make_env, running
from tests.utils.monitoring import (
    alert_events,
    errors,
    evaluate,
    make_monitoring,
    rule,
    serving,
)

pytestmark = pytest.mark.monitoring

PROBLEM = "application/problem+json"


@pytest.fixture
def env():
    return make_monitoring(latency_buckets=(10.0, 50.0, 100.0), max_label_values=3)


def exposition(client) -> dict[str, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_prediction_event_carries_the_callers_correlation_id_as_a_record_header(tmp_path):
    inference = make_env(tmp_path)
    inference.publish("churn", 1, make_artifact("logistic", seed=5))
    consumer = get_bus().subscribe("inference.predictions", "contract-reader")
    with running(inference) as client:
        deploy_ok(client, "churn", 1)
        headers = {"X-Correlation-ID": "req-7f3a"}
        response = client.post(
            "/api/v1/models/churn/predict", json={"instances": ROWS}, headers=headers
        )
        assert response.headers["x-correlation-id"] == "req-7f3a"
    [record] = consumer.poll()
    envelope = read_event(record)
    assert record.headers.get("x-correlation-id") == "req-7f3a"
    assert envelope.correlation_id == "req-7f3a"


def test_prediction_event_names_model_version_status_and_latency(tmp_path):
    inference = make_env(tmp_path)
    inference.publish("churn", 2, make_artifact("logistic", seed=5))
    consumer = get_bus().subscribe("inference.predictions", "contract-reader")
    with running(inference) as client:
        deploy_ok(client, "churn", 2)
        client.post("/api/v1/models/churn/predict", json={"instances": ROWS})
    [record] = consumer.poll()
    envelope = read_event(record)
    assert envelope.type == EventType.PREDICTION_SERVED and envelope.source == "inference"
    assert set(envelope.data) == set(EVENT_SPECS[EventType.PREDICTION_SERVED].fields)
    assert (envelope.data["name"], envelope.data["version"], envelope.data["status"]) == (
        "churn",
        2,
        200,
    )
    assert envelope.data["latency_ms"] >= 0


def test_observation_equal_to_a_bound_is_counted_in_that_bucket(env):
    with serving(env) as client:
        for latency in (10.0, 50.0, 50.0, 75.0, 100.0, 180.0):
            env.prediction(latency_ms=latency)
        evaluate(client)
        samples = exposition(client)
    buckets = {
        le: samples[f'synapse_prediction_latency_ms_bucket{{model="churn",le="{le}"}}']
        for le in ("10", "50", "100", "+Inf")
    }
    assert buckets == {"10": 1, "50": 3, "100": 5, "+Inf": 6}
    assert samples['synapse_prediction_latency_ms_count{model="churn"}'] == 6
    assert samples['synapse_prediction_latency_ms_sum{model="churn"}'] == 465


def test_latency_summary_reports_latencies_requests_actually_took(env):
    with serving(env) as client:
        for latency in range(1, 21):
            env.prediction(latency_ms=float(latency * 5))
        evaluate(client)
        summary = client.get("/api/v1/models/churn/latency").json()
    assert (summary["count"], summary["errors"]) == (20, 0)
    assert (summary["p50"], summary["p95"], summary["p99"]) == (50.0, 95.0, 100.0)
    assert summary["buckets"] == [
        {"le": "10", "count": 2},
        {"le": "50", "count": 10},
        {"le": "100", "count": 20},
        {"le": "+Inf", "count": 20},
    ]


def test_percentile_of_an_odd_sample_is_an_observed_value(env):
    with serving(env) as client:
        for latency in (40.0, 10.0, 30.0, 20.0, 50.0, 60.0, 70.0):
            env.prediction(latency_ms=latency)
        evaluate(client)
        summary = client.get("/api/v1/models/churn/latency").json()
    assert (summary["p50"], summary["p95"]) == (40.0, 70.0)


def test_model_label_values_beyond_the_limit_fold_into_other(env):
    with serving(env) as client:
        for index in range(8):
            env.prediction(f"model-{index}")
        evaluate(client)
        samples = exposition(client)
    models = {
        name.split('model="')[1].split('"')[0]
        for name in samples
        if name.startswith("synapse_predictions_total")
    }
    assert models == {"model-0", "model-1", "model-2", "other"}
    assert samples['synapse_predictions_total{model="other",outcome="ok"}'] == 5


def test_model_labels_already_exposed_stay_when_a_new_model_starts_serving(env):
    with serving(env) as client:
        for name in ("zeta", "omega", "kappa"):
            env.prediction(name)
        evaluate(client)
        before = exposition(client)
        env.prediction("alpha", status=503)
        evaluate(client)
        after = exposition(client)
    series = [
        f'synapse_predictions_total{{model="{n}",outcome="ok"}}' for n in ("zeta", "omega", "kappa")
    ]
    assert [before.get(s) for s in series] == [after.get(s) for s in series] == [1, 1, 1]
    assert after['synapse_predictions_total{model="other",outcome="server_error"}'] == 1
    assert not any('model="alpha"' in name for name in after)


def test_outcomes_are_counted_by_status_class(env):
    with serving(env) as client:
        env.prediction(status=200)
        env.prediction(status=422)
        env.prediction(status=502)
        env.prediction(status=503)
        evaluate(client)
        samples = exposition(client)
    assert samples['synapse_predictions_total{model="churn",outcome="ok"}'] == 1
    assert samples['synapse_predictions_total{model="churn",outcome="client_error"}'] == 1
    assert samples['synapse_predictions_total{model="churn",outcome="server_error"}'] == 2


def test_alert_fired_event_names_rule_model_and_value(env):
    with serving(env) as client:
        rule(client, "fraud-errors", threshold=3, model="fraud")
        errors(env.bus, 4, "fraud", at=env.clock())
        evaluate(client)
    [fired] = alert_events(env.bus)
    assert fired == {"type": "alert.fired", "rule": "fraud-errors", "model": "fraud", "value": 4.0}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "metric": "error_count", "threshold": -1, "window_seconds": 60},
        {"name": "x", "metric": "cpu", "threshold": 5, "window_seconds": 60},
        {"name": "x", "metric": "error_count", "threshold": "NaN", "window_seconds": 60},
    ],
    ids=["negative", "unknown-metric", "nan"],
)
def test_invalid_rule_is_a_422_problem_and_nothing_is_stored(env, body):
    with serving(env) as client:
        response = client.post("/api/v1/rules", json=body)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"]
        assert client.get("/api/v1/rules").json()["items"] == []


def test_duplicate_rule_is_a_409_problem(env):
    with serving(env) as client:
        rule(client)
        response = client.post(
            "/api/v1/rules",
            json={
                "name": "churn-errors",
                "metric": "error_count",
                "threshold": 1,
                "window_seconds": 5,
            },
        )
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


def test_silence_without_an_offset_is_refused(env):
    with serving(env) as client:
        rule(client)
        body = {"rule": "churn-errors", "ends_at": "2024-03-10T08:00:00"}
        response = client.post("/api/v1/silences", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_silence_of_an_unknown_rule_is_a_404_problem(env):
    with serving(env) as client:
        body = {"rule": "nobody", "ends_at": "2024-03-10T08:00:00+00:00"}
        response = client.post("/api/v1/silences", json=body)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_unknown_trace_and_model_are_404_problems(env):
    with serving(env) as client:
        trace = client.get(f"/api/v1/traces/{uuid.uuid4().hex}")
        latency = client.get("/api/v1/models/churn/latency")
    assert (trace.status_code, latency.status_code) == (404, 404)
    assert trace.headers["content-type"] == latency.headers["content-type"] == PROBLEM


def test_malformed_event_is_skipped_and_the_rest_ingested(env):
    with serving(env) as client:
        env.bus.publish("inference.predictions", {"type": "prediction.served", "id": "x"})
        env.prediction(latency_ms=math.pi)
        evaluate(client)
        summary = client.get("/api/v1/models/churn/latency").json()
    assert summary["count"] == 1
    assert env.ingestor.skipped == 1


def test_silence_rule_names_are_at_most_64_characters(env):
    with serving(env) as client:
        for length, status in ((64, 404), (65, 422)):
            body = {"rule": "r" * length, "ends_at": "2024-03-10T08:00:00+00:00"}
            assert client.post("/api/v1/silences", json=body).status_code == status


def test_silence_ending_when_it_starts_is_refused(env):
    with serving(env) as client:
        rule(client)
        body = {
            "rule": "churn-errors",
            "starts_at": "2024-03-10T08:00:00+00:00",
            "ends_at": "2024-03-10T08:00:00+00:00",
        }
        response = client.post("/api/v1/silences", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
