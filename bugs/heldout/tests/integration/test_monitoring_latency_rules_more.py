"""Held-out: latency rules with another model, window, threshold and share of slow requests."""

from __future__ import annotations

import pytest

from tests.utils.monitoring import evaluate, make_monitoring, publish_prediction, rule, serving

pytestmark = pytest.mark.monitoring


def test_latency_rule_of_another_model_fires_on_two_slow_requests_in_thirty():
    env = make_monitoring()
    with serving(env) as client:
        rule(
            client,
            "fraud-slow",
            metric="latency_p95",
            threshold=120,
            window_seconds=30,
            model="fraud",
        )
        for extra in range(28):
            publish_prediction(env.bus, "fraud", latency_ms=15.0 + extra, at=env.clock())
        for latency in (480.0, 510.0):
            publish_prediction(env.bus, "fraud", latency_ms=latency, at=env.clock())
        fired = evaluate(client)
    assert [(a["rule"], a["model"], a["status"], a["value"]) for a in fired] == [
        ("fraud-slow", "fraud", "firing", 480.0)
    ]
