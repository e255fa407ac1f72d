"""One correlation ID follows a request from the gateway through the registry to monitoring."""

import re

import pytest

from shared.backends import get_bus
from shared.events import schema
from tests.utils.events import drain
from tests.utils.experiments import ExperimentsAPI, experiments_wsgi_app
from tests.utils.links import linked_services, linked_transport
from tests.utils.monitoring import make_monitoring, serving
from tests.utils.platform import PLATFORM_DB
from tests.utils.registry import version_payload

pytestmark = [pytest.mark.registry, PLATFORM_DB]

REGISTER = "/api/registry/api/v1/registered-models/churn/versions"


def traced(trace_id: str) -> list[dict]:
    monitoring = make_monitoring(bus=get_bus())
    with serving(monitoring) as client:
        monitoring.ingestor.drain()
        trace = client.get(f"/api/v1/traces/{trace_id}")
    assert trace.status_code == 200, trace.text
    return trace.json()["events"]


def test_registration_through_the_gateway_is_traced_to_its_announcement(platform):
    created = platform.gateway.post(
        REGISTER, json=version_payload(run_id=""), headers={"X-Correlation-ID": "release-42"}
    )
    assert created.headers["x-correlation-id"] == "release-42"
    [event] = traced("release-42")
    assert (event["type"], event["source"], event["model"], event["version"]) == (
        "model.version.registered",
        "registry",
        "churn",
        1,
    )


def test_promotion_is_filed_under_the_promoting_request(platform):
    platform.gateway.post(REGISTER, json=version_payload(run_id=""))
    url = REGISTER + "/1/transition"
    platform.gateway.post(url, json={"stage": "Staging"}, headers={"X-Correlation-ID": "cab-1"})
    promoted = platform.gateway.post(
        url, json={"stage": "Production"}, headers={"X-Correlation-ID": "cab-2"}
    )
    assert promoted.status_code == 200, promoted.text
    assert [e["type"] for e in traced("cab-2")] == ["model.version.promoted"]


def test_run_ended_through_the_gateway_is_announced_under_the_callers_id(platform):
    consumer = get_bus().subscribe(["experiments.runs"], "audit")
    run = platform.gateway.post("/api/experiments/api/v1/runs", json={"experiment": "sweep"})
    ended = platform.gateway.post(
        f"/api/experiments/api/v1/runs/{run.json()['run_id']}/end",
        json={"status": "finished"},
        headers={"X-Correlation-ID": "sweep-end-3"},
    )
    assert ended.headers["x-correlation-id"] == "sweep-end-3"
    [event] = [schema.read_event(event) for event in drain(consumer)]
    assert (event.type.value, event.correlation_id) == ("experiment.run.finished", "sweep-end-3")


def test_registry_answers_with_a_fresh_correlation_id_when_none_was_sent(platform):
    listed = platform.gateway.get("/api/registry/api/v1/registered-models")
    other = platform.gateway.get("/api/registry/api/v1/registered-models")
    sent = listed.headers["x-correlation-id"]
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", sent)
    assert sent != other.headers["x-correlation-id"]


class HeaderRecorder:
    """A WSGI app in front of another, keeping the correlation ID of every request."""

    def __init__(self, app):
        self.app = app
        self.seen: list[str | None] = []

    def __call__(self, environ, start_response):
        self.seen.append(environ.get("HTTP_X_CORRELATION_ID"))
        return self.app(environ, start_response)


def test_registry_checks_the_run_under_the_registering_requests_id():
    run = ExperimentsAPI().start()
    transport = linked_transport()
    recorder = HeaderRecorder(experiments_wsgi_app())
    transport.mount("experiments", recorder)
    with linked_services(transport=transport) as http:
        created = http.post(
            "http://registry/api/v1/registered-models/churn/versions",
            json=version_payload(run_id=run["run_id"]),
            headers={"X-Correlation-ID": "audit-9"},
        )
    assert created.status_code == 201, created.text
    assert recorder.seen == ["audit-9"]
