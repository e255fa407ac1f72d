"""Held-out: envelope times written and read in other zones and event types."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import ValidationError
from shared.events import schema
from shared.events.schema import EventType

pytestmark = pytest.mark.registry

KOLKATA = timezone(timedelta(hours=5, minutes=30))


def test_event_stamped_in_kolkata_is_written_and_read_back_as_the_same_utc_instant():
    when = datetime(2025, 3, 9, 12, 15, tzinfo=KOLKATA)
    data = {"name": "ranker", "version": 8, "previous_version": 7}
    envelope = schema.make_event(
        EventType.DEPLOYMENT_SWAPPED, data, source="inference", clock=lambda: when
    )
    text = schema.dumps(envelope)
    body = json.loads(text)
    assert body["occurred_at"] == "2025-03-09T06:45:00+00:00"
    assert schema.loads(text).occurred_at == when
    with pytest.raises(ValidationError):
        schema.from_dict(dict(body, occurred_at="2025-03-09T06:45:00"))
