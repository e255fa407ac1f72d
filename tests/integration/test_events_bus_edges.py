"""Event bus and envelope edges: one record at a time, closed consumers, non-finite data."""

from __future__ import annotations

import pytest

from shared.errors import ValidationError
from shared.events import schema
from shared.events.schema import EventType
from tests.utils.events import make_memory_bus

pytestmark = pytest.mark.registry


def test_a_poll_may_ask_for_a_single_record():
    bus = make_memory_bus()
    bus.create_topic("jobs")
    for n in range(3):
        bus.publish("jobs", {"n": n})
    consumer = bus.subscribe("jobs", group_id="one-at-a-time")
    assert [event.value for event in consumer.poll(max_records=1)] == [{"n": 0}]
    assert [event.value for event in consumer.poll(max_records=1)] == [{"n": 1}]


def test_a_closed_consumer_has_no_partitions():
    bus = make_memory_bus()
    bus.create_topic("jobs", partitions=2)
    consumer = bus.subscribe("jobs", group_id="leaving")
    consumer.poll()
    assert consumer.assignment()
    consumer.close()
    assert consumer.assignment() == set()


@pytest.mark.parametrize("score", [float("nan"), float("inf")], ids=["nan", "infinity"])
def test_event_data_with_a_non_finite_number_is_refused(score):
    data = {"model_name": "churn", "feature": "tenure", "score": score}
    with pytest.raises(ValidationError) as refused:
        schema.make_event(EventType.DRIFT_DETECTED, data, source="monitoring")
    assert any("JSON" in problem for problem in refused.value.details["errors"])
