"""The background poller of monitoring and the pipeline: it outlives outages and stops cleanly."""

from __future__ import annotations

import threading

import pytest

from shared.errors import ServiceUnavailableError
from shared.events.polling import PollingThread

pytestmark = pytest.mark.monitoring


def test_poller_keeps_polling_through_an_outage_and_closes_once_stopped(caplog):
    answers: list[object] = [[1, 2], ServiceUnavailableError("bus down"), 3, 0]
    polled: list[object] = []
    drained, closed = threading.Event(), []

    def poll():
        answer = answers.pop(0) if answers else 0
        if isinstance(answer, Exception):
            raise answer
        polled.append(answer)
        if not answers:
            drained.set()
        return answer

    poller = PollingThread("test-poller", poll, lambda: closed.append(True), interval=0.0)
    poller.start()
    assert drained.wait(timeout=10)
    poller.stop()
    assert polled[:3] == [[1, 2], 3, 0]
    assert closed == [True]
    assert "test-poller failed, retrying: bus down" in caplog.text
