"""Topic bootstrap: every platform topic exists with its partitions before anything publishes."""

from __future__ import annotations

import io

import pytest

from shared.bootstrap.runner import main, run_steps
from shared.errors import ConflictError
from shared.events.base import UnknownTopicError
from shared.events.schema import EVENT_SPECS, PLATFORM_TOPICS
from shared.infra_settings import InfraSettings
from shared.search.memory import InMemorySearchIndex
from shared.storage.bootstrap import PLATFORM_BUCKETS
from shared.storage.memory import InMemoryObjectStore
from tests.utils.events import make_memory_bus
from tests.utils.infra import memory_registry

pytestmark = pytest.mark.registry


def memory_builders():
    """Return in-memory adapters for every step, and the builders that hand them out."""
    adapters = {
        "kafka": make_memory_bus(),
        "storage": InMemoryObjectStore(),
        "search": InMemorySearchIndex(),
        "consul": memory_registry(),
    }
    return adapters, {step: (lambda s, a=adapter: a) for step, adapter in adapters.items()}


def test_kafka_step_creates_every_topic_with_its_partitions():
    adapters, builders = memory_builders()
    assert main(["kafka"], settings=InfraSettings(), builders=builders, out=io.StringIO()) == 0
    bus = adapters["kafka"]
    assert {t: bus.partition_count(t) for t in bus.list_topics()} == PLATFORM_TOPICS


def test_every_event_type_can_publish_after_bootstrap():
    adapters, builders = memory_builders()
    run_steps(["kafka"], settings=InfraSettings(), builders=builders)
    for spec in EVENT_SPECS.values():
        assert adapters["kafka"].publish(spec.topic, {"n": 1}, key="k").offset >= 0


def test_a_bus_without_bootstrap_refuses_to_publish():
    with pytest.raises(UnknownTopicError):
        make_memory_bus().publish("training.jobs", {"n": 1})


def test_all_bootstraps_topics_buckets_indices_and_kv():
    adapters, builders = memory_builders()
    out = io.StringIO()
    assert main(["all"], settings=InfraSettings(), builders=builders, out=out) == 0
    assert sorted(adapters["kafka"].list_topics()) == sorted(PLATFORM_TOPICS)
    assert all(adapters["storage"].bucket_exists(b) for b in PLATFORM_BUCKETS)
    assert adapters["search"].index_exists("models")
    assert adapters["consul"].kv_get("synapse/services/registry/port") == "8003"
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        "kafka",
        "storage",
        "search",
        "consul",
    ]


def test_rerunning_completes_a_partial_topic_set():
    adapters, builders = memory_builders()
    adapters["kafka"].create_topic("models.versions", 3)
    adapters["kafka"].create_topic("unrelated.audit", 1)
    [result] = run_steps(["kafka"], settings=InfraSettings(), builders=builders)
    created = len(PLATFORM_TOPICS) - 1
    assert result.ok and result.message == f"{len(PLATFORM_TOPICS)} topics ready, {created} created"
    assert set(PLATFORM_TOPICS) <= set(adapters["kafka"].list_topics())


def test_topic_with_other_partitions_fails_the_step():
    adapters, builders = memory_builders()
    adapters["kafka"].create_topic("training.jobs", 1)
    out = io.StringIO()
    assert main(["kafka"], settings=InfraSettings(), builders=builders, out=out) == 1
    assert "training.jobs" in out.getvalue() and out.getvalue().startswith("kafka: FAILED")


def test_one_failing_step_does_not_stop_the_others():
    def locked(settings):
        raise ConflictError("index locked")

    adapters, builders = memory_builders()
    builders["search"] = locked
    results = run_steps(["all"], settings=InfraSettings(), builders=builders)
    assert [(r.step, r.ok) for r in results] == [
        ("kafka", True),
        ("storage", True),
        ("search", False),
        ("consul", True),
    ]


def test_client_library_errors_name_the_server():
    def unreachable(settings):
        raise OSError("connection refused")

    settings = InfraSettings(kafka_bootstrap="broker-7:9092")
    [result] = run_steps(["kafka"], settings=settings, builders={"kafka": unreachable})
    assert result.message == "Kafka at broker-7:9092: OSError: connection refused"


def test_unknown_step_is_a_usage_error():
    with pytest.raises(SystemExit) as info:
        main(["topics"])
    assert info.value.code == 2
