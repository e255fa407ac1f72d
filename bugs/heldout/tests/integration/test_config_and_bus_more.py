"""Held-out: database URLs and keyless spreading on other ports, hosts and partition counts."""

from __future__ import annotations

import pytest

from services.django_project.databases import parse_database_url
from tests.utils.events import make_memory_bus

pytestmark = pytest.mark.registry


def test_database_urls_keep_unusual_ports():
    for url, host, port in [
        ("postgresql://u:p@10.0.0.7:6543/reg", "10.0.0.7", "6543"),
        ("postgres://svc@db.internal:15432/models", "db.internal", "15432"),
    ]:
        parsed = parse_database_url(url)
        assert (parsed["HOST"], parsed["PORT"]) == (host, port)


def test_keyless_records_cycle_through_five_partitions():
    bus = make_memory_bus()
    bus.create_topic("metrics", partitions=5)
    partitions = [bus.publish("metrics", {"i": i}).partition for i in range(11)]
    assert partitions == [i % 5 for i in range(11)]
