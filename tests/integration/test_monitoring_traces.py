"""Correlation IDs across hops: a request followed from the gateway to monitoring."""

from __future__ import annotations

import pytest

from shared.backends import get_bus
from tests.utils.monitoring import make_monitoring, serving
from tests.utils.platform import PLATFORM_DB, platform, rows  # noqa: F401 (fixture)
from tests.utils.registry import registry_app, registry_db  # noqa: F401 (fixtures)

pytestmark = [PLATFORM_DB, pytest.mark.monitoring]


def test_trace_id_survives_gateway_inference_bus_and_monitoring(platform):  # noqa: F811
    trained = platform.train("churn")
    platform.promote("churn", trained.version)
    assert platform.deploy("churn", trained.version).status_code == 200
    response = platform.gateway.post(
        "/api/inference/api/v1/models/churn/predict",
        json={"instances": rows(4)},
        headers={"X-Correlation-ID": "checkout-1f9c"},
    )
    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == "checkout-1f9c"
    monitoring = make_monitoring(bus=get_bus())
    with serving(monitoring) as client:
        monitoring.ingestor.drain()
        trace = client.get("/api/v1/traces/checkout-1f9c")
    assert trace.status_code == 200, trace.text
    [event] = trace.json()["events"]
    assert (event["type"], event["source"], event["model"], event["version"], event["status"]) == (
        "prediction.served",
        "inference",
        "churn",
        trained.version,
        200,
    )
