"""Held-out: exposition and summaries on other bucket layouts, limits and samples."""

from __future__ import annotations

import pytest

from tests.utils.monitoring import evaluate, make_monitoring, serving

pytestmark = pytest.mark.monitoring


def samples(client) -> dict[str, float]:
    out = {}
    for line in client.get("/metrics").text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_fractional_bounds_count_an_equal_observation_in_their_bucket():
    env = make_monitoring(latency_buckets=(0.5, 2.5, 7.5))
    with serving(env) as client:
        for latency in (0.5, 2.5, 2.5, 7.5):
            env.prediction("ranker", latency_ms=latency)
        evaluate(client)
        summary = client.get("/api/v1/models/ranker/latency").json()
    assert [b["count"] for b in summary["buckets"]] == [1, 3, 4, 4]


def test_five_label_values_kept_and_the_rest_folded():
    env = make_monitoring(max_label_values=5)
    with serving(env) as client:
        for index in (8, 6, 4, 7, 5):
            env.prediction(f"svc-{index}", status=503)
        evaluate(client)
        for index in range(4):
            env.prediction(f"svc-{index}", status=503)
        evaluate(client)
        names = samples(client)
    labelled = {n for n in names if n.startswith("synapse_predictions_total")}
    kept = {
        f'synapse_predictions_total{{model="svc-{i}",outcome="server_error"}}' for i in range(4, 9)
    }
    assert labelled == kept | {'synapse_predictions_total{model="other",outcome="server_error"}'}
    assert names['synapse_predictions_total{model="other",outcome="server_error"}'] == 4
