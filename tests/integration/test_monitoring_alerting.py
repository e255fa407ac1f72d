"""Alerting on inference traffic: one alert per burst, resolution, silences, redelivery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.backends import get_bus
from shared.utils.timeutils import utcnow
from tests.utils.inference import ROWS, deploy_ok, make_artifact, make_env, running
from tests.utils.monitoring import (
    UTCClock,
    alert_events,
    alerts,
    errors,
    evaluate,
    make_monitoring,
    prediction_envelope,
    publish_prediction,
    publish_raw,
    rule,
    serving,
)

pytestmark = pytest.mark.monitoring

BAD_ROWS = [{"tenure": 1.0, "spend": 2.0}]  # a feature missing: inference answers 422


@pytest.fixture
def inference(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact("logistic", seed=3))
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        yield client


def test_inference_error_burst_raises_exactly_one_alert(inference):
    monitoring = make_monitoring(clock=UTCClock(utcnow() + timedelta(seconds=5)))
    with serving(monitoring) as client:
        rule(client, threshold=5)
        for _ in range(7):
            response = inference.post("/api/v1/models/churn/predict", json={"instances": BAD_ROWS})
            assert response.status_code == 422
            evaluate(client)
        assert inference.post("/api/v1/models/churn/predict", json={"instances": ROWS}).is_success
        evaluate(client)
        fired = alerts(client)
    assert [(a["rule"], a["model"], a["status"]) for a in fired] == [
        ("churn-errors", "churn", "firing")
    ]
    assert [e["type"] for e in alert_events(get_bus())] == ["alert.fired"]


def test_successful_predictions_raise_no_error_alert(inference):
    monitoring = make_monitoring(clock=UTCClock(utcnow() + timedelta(seconds=5)))
    with serving(monitoring) as client:
        rule(client, threshold=2)
        for _ in range(4):
            assert inference.post(
                "/api/v1/models/churn/predict", json={"instances": ROWS}
            ).is_success
        assert evaluate(client) == []
        assert alerts(client) == []


def test_alert_resolves_once_the_burst_leaves_its_window():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5, window_seconds=60)
        errors(env.bus, 6, at=env.clock())
        assert [a["status"] for a in evaluate(client)] == ["firing"]
        env.clock.advance(61)
        changed = evaluate(client)
        assert [(a["status"], a["value"]) for a in changed] == [("resolved", 0.0)]
        assert [a["status"] for a in alerts(client)] == ["resolved"]
    assert [e["type"] for e in alert_events(env.bus)] == ["alert.fired", "alert.resolved"]


def test_alert_of_a_rule_naming_its_model_resolves_when_the_errors_stop():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=3, window_seconds=30, model="fraud")
        errors(env.bus, 3, "fraud", at=env.clock())
        evaluate(client)
        env.clock.advance(45)
        assert [a["status"] for a in evaluate(client)] == ["resolved"]


def test_alert_stays_open_while_the_errors_keep_coming():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5, window_seconds=60)
        for _ in range(4):
            errors(env.bus, 3, at=env.clock())
            evaluate(client)
            env.clock.advance(20)
        assert [a["status"] for a in alerts(client)] == ["firing"]


def test_second_burst_after_resolution_raises_a_second_alert():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5, window_seconds=60)
        errors(env.bus, 5, at=env.clock())
        evaluate(client)
        env.clock.advance(120)
        evaluate(client)
        errors(env.bus, 5, at=env.clock())
        evaluate(client)
        statuses = [a["status"] for a in alerts(client)]
    assert statuses == ["firing", "resolved"]


def test_burst_below_the_threshold_raises_nothing():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5)
        errors(env.bus, 4, at=env.clock())
        assert evaluate(client) == []
    assert alert_events(env.bus) == []


def test_errors_a_producer_published_twice_are_counted_once():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=5)
        for _ in range(3):
            envelope = prediction_envelope(status=503, at=env.clock())
            publish_raw(env.bus, envelope)
            publish_raw(env.bus, envelope)  # the producer's retry after a lost acknowledgement
        assert evaluate(client) == []
        summary = client.get("/api/v1/models/churn/latency").json()
    assert (summary["count"], summary["errors"]) == (3, 3)


def test_silenced_alert_is_recorded_but_not_announced():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=2)
        ends = (env.clock() + timedelta(hours=1)).isoformat()
        silence = {"rule": "churn-errors", "ends_at": ends, "comment": "deploy window"}
        assert client.post("/api/v1/silences", json=silence).status_code == 201
        errors(env.bus, 3, at=env.clock())
        evaluate(client)
        [alert] = alerts(client)
    assert (alert["status"], alert["silenced"]) == ("firing", True)
    assert alert_events(env.bus) == []


def test_silence_of_one_model_leaves_the_others_alerting():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=2)
        ends = (env.clock() + timedelta(hours=1)).isoformat()
        body = {"rule": "churn-errors", "model": "fraud", "ends_at": ends}
        assert client.post("/api/v1/silences", json=body).status_code == 201
        errors(env.bus, 2, "fraud", at=env.clock())
        errors(env.bus, 2, "churn", at=env.clock())
        evaluate(client)
    announced = [(e["type"], e["model"]) for e in alert_events(env.bus)]
    assert announced == [("alert.fired", "churn")]


def test_expired_silence_no_longer_mutes():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, threshold=2)
        ends = (env.clock() + timedelta(minutes=5)).isoformat()
        assert client.post("/api/v1/silences", json={"rule": "churn-errors", "ends_at": ends})
        env.clock.advance(300)
        errors(env.bus, 2, at=env.clock())
        evaluate(client)
    assert [e["type"] for e in alert_events(env.bus)] == ["alert.fired"]


def test_latency_rule_fires_when_a_few_requests_are_slow_and_resolves_once_they_are_fast():
    env = make_monitoring()
    with serving(env) as client:
        rule(client, "churn-slow", metric="latency_p95", threshold=250, window_seconds=60)
        for extra in range(20):
            publish_prediction(env.bus, latency_ms=40.0 + extra, at=env.clock())
        assert evaluate(client) == []
        for _ in range(3):
            publish_prediction(env.bus, latency_ms=900.0, at=env.clock())
        fired = evaluate(client)
        assert [(a["rule"], a["status"], a["value"]) for a in fired] == [
            ("churn-slow", "firing", 900.0)
        ]
        env.clock.advance(61)
        for extra in range(20):
            publish_prediction(env.bus, latency_ms=30.0 + extra, at=env.clock())
        assert [a["status"] for a in evaluate(client)] == ["resolved"]
