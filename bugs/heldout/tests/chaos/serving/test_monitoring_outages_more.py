"""Held-out: metrics_db outages on the poll and drain paths with other batch sizes."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from services.monitoring.events import Ingestor
from tests.utils.monitoring import make_monitoring, serving

pytestmark = pytest.mark.monitoring


class Down:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.failing = False

    def __call__(self):
        if self.failing:
            raise OperationalError("INSERT", {}, TimeoutError("metrics_db timed out"))
        return self.inner()


def test_small_batches_through_an_outage_all_arrive():
    env = make_monitoring()
    sessions = Down(env.app.state.monitor.session_factory)
    ingestor = Ingestor(sessions, lambda: env.bus, env.clock, batch_size=2)
    with serving(env) as client:
        for _ in range(2):
            env.prediction("ranker")
        sessions.failing = True
        with pytest.raises(OperationalError):
            ingestor.poll_once()
        sessions.failing = False
        while ingestor.poll_once():
            pass
        assert client.get("/api/v1/models/ranker/latency").json()["count"] == 2


def test_drain_after_a_timeout_recovers_a_single_event():
    env = make_monitoring()
    sessions = Down(env.app.state.monitor.session_factory)
    ingestor = Ingestor(sessions, lambda: env.bus, env.clock, group="monitoring-b")
    with serving(env) as client:
        env.prediction("ranker", status=504)
        sessions.failing = True
        with pytest.raises(OperationalError):
            ingestor.drain()
        sessions.failing = False
        ingestor.drain()
        assert client.get("/api/v1/models/ranker/latency").json()["errors"] == 1
