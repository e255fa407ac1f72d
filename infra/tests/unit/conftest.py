"""Fixtures of the infra lane's fast tests: the Consul stand-in in process, fake clocks."""

from __future__ import annotations

import consul
import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from starlette.testclient import TestClient

from infra.consul.agent import ConsulAgent
from infra.consul.app import create_app
from infra.consul.checks import PASSING


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class ScriptedProber:
    """An HTTP/TCP prober that answers what a test sets and counts its probes."""

    def __init__(self) -> None:
        self.status = PASSING
        self.calls: list[str] = []

    def __call__(self, check):
        self.calls.append(check.check_id)
        return self.status, f"probed {check.target}"


class ASGIAdapter(BaseAdapter):
    """A requests transport that hands every request to an in-process ASGI test client."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        answer = self.client.request(
            request.method, request.url, content=request.body, headers=dict(request.headers)
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def prober() -> ScriptedProber:
    return ScriptedProber()


@pytest.fixture
def agent(clock, prober) -> ConsulAgent:
    return ConsulAgent(clock=clock, prober=prober)


@pytest.fixture
def http(agent) -> TestClient:
    with TestClient(create_app(agent), base_url="http://consul.test") as client:
        yield client


@pytest.fixture
def client(http) -> consul.Consul:
    """A real py-consul client whose HTTP calls reach the stand-in in process."""
    c = consul.Consul(host="consul.test", port=8500)
    c.http.session.mount("http://", ASGIAdapter(http))
    return c
