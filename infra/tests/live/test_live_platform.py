"""The services at runtime on the real stack: a flow through their APIs lands in every server.

The slice of tests/utils/platform.py (registry, training, inference, gateway) runs in-process,
with every infrastructure port built from InfraSettings on its real backend (Kafka, Redis,
S3, Elasticsearch, Consul), the registry on the stack's PostgreSQL and the storage service's
rows in a schema of this run in models_db. After one model lifecycle (train v1, deploy, train
v2, promote v2, inference follows the promotion), the checks read each server directly: the
topics hold the events, Redis holds the cache keys, the buckets hold the artifacts and
checkpoints (written through the storage service, which lists them), the index holds the
version documents and Consul lists the instances. Last, an inference replica whose host lacks
the artifact file loads it through the storage service from S3 and serves the same answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from infra.stack import REAL_BACKENDS
from infra.tests.live.support import private_schema, unique
from infra.tests.live.test_live_postgres import django_postgres  # noqa: F401 (fixture)
from services.inference.registry_cache import record_key
from shared import backends
from shared.bootstrap.runner import run_steps
from shared.cache.redis import make_redis_client
from shared.events.schema import EventType, read_event
from shared.infra_settings import InfraSettings
from shared.search.mappings import MODEL_VERSIONS_INDEX
from shared.storage.bootstrap import ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET
from tests.utils.platform import Platform, boot, rows
from tests.utils.storage import sha256

TOPICS = ("models.versions", "training.jobs", "inference.deployments")


def real(settings: InfraSettings) -> InfraSettings:
    """Return the settings with every port on its real backend (what `infra env` exports)."""
    fields = {name.removeprefix("SYNAPSE_").lower(): value for name, value in REAL_BACKENDS.items()}
    return settings.model_copy(update=fields)


@pytest.fixture(scope="module")
def live(infra_settings) -> Iterator[InfraSettings]:
    """Bootstrap the stack and serve every port from its real backend for this module."""
    settings = real(infra_settings)
    results = run_steps(["kafka", "storage", "search"], settings=settings)
    assert all(result.ok for result in results), [result.line() for result in results]
    with ExitStack() as stack:
        for port in backends.BACKENDS:
            adapter = backends.create(port, settings=settings)
            stack.enter_context(backends.use_backend(port, adapter))
            if hasattr(adapter, "close"):
                stack.callback(adapter.close)
        yield settings


@pytest.fixture(scope="module")
def flow(live, django_postgres, tmp_path_factory) -> Iterator[dict[str, Any]]:  # noqa: F811
    """Run one model lifecycle through the gateway; return what it produced."""
    from services.django_project.wsgi import get_wsgi_application_for

    name = unique("live-churn")
    with ExitStack() as stack:
        storage_db = stack.enter_context(private_schema(live, "models_db", "live_platform"))
        root = tmp_path_factory.mktemp("artifacts")
        platform = boot(root, get_wsgi_application_for("registry"), stack, storage_db)
        assert platform.storage_app is not None
        rows_engine = platform.storage_app.state.storage.objects.session_factory.kw["bind"]
        stack.callback(rows_engine.dispose)  # before the schema is dropped
        follower = platform.inference.state.follower
        assert follower.wait_assigned(), "inference never joined its consumer group"
        v1 = platform.train(name, seed=7)
        assert platform.deploy(name, v1.version).status_code == 200
        v2 = platform.train(name, seed=8)
        platform.promote(name, v2.version)
        follow(platform, name, v2.version)
        served = platform.predict(name, rows()).json()
        yield {
            "name": name,
            "jobs": [v1.job, v2.job],
            "served": served,
            "root": Path(root),
            "platform": platform,
        }
        cleanup(live, name)


def follow(platform: Platform, name: str, version: int, within: float = 20.0) -> None:
    """Let the inference follower consume until it serves the promoted version."""
    deadline = time.monotonic() + within
    follower = platform.inference.state.follower
    while time.monotonic() < deadline:
        follower.process_pending(timeout_ms=200)
        items = {item["name"]: item["version"] for item in platform.server.snapshot()["items"]}
        if items.get(name) == version:
            return
    raise AssertionError(f"inference did not follow the promotion of {name} v{version}")


def cleanup(settings: InfraSettings, name: str) -> None:
    """Remove the run's objects, documents and keys (topics keep their events)."""
    store, index = backends.get_storage(), backends.get_search()
    for bucket in (ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET):
        for info in store.list(bucket, f"{name}/"):
            store.delete(bucket, info.name)
    for number in (1, 2):
        index.delete(MODEL_VERSIONS_INDEX.name, f"{name}:{number}")
    client = make_redis_client(settings)
    client.delete(*[f"synapse:cache:{record_key(name, n)}" for n in (1, 2)])
    client.close()


def topic_events(settings: InfraSettings, name: str, within: float = 15.0) -> list:
    """Read the platform topics from the beginning with a new group; keep this run's events."""
    bus = backends.create("events", settings=settings)
    consumer = bus.subscribe(list(TOPICS), unique("live-observer"), "earliest")
    found, deadline = [], time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            batch = consumer.poll(max_records=500, timeout_ms=300)
            found += [read_event(e) for e in batch]
            if not batch and found and consumer.assignment():
                break
    finally:
        consumer.close()
        bus.close()
    return [e for e in found if name in (e.data.get("name"), e.data.get("model_name"))]


def test_the_flow_served_the_promoted_version(flow):
    assert flow["served"]["version"] == 2


def test_kafka_topics_hold_the_lifecycle_events(flow, live):
    seen = [
        (e.type, e.data.get("version") or e.data.get("model_version"))
        for e in topic_events(live, flow["name"])
    ]
    assert (EventType.MODEL_VERSION_REGISTERED, 1) in seen
    assert (EventType.MODEL_VERSION_REGISTERED, 2) in seen
    assert (EventType.MODEL_VERSION_PROMOTED, 2) in seen
    assert (EventType.TRAINING_JOB_COMPLETED, 1) in seen
    assert (EventType.TRAINING_JOB_COMPLETED, 2) in seen
    assert (EventType.DEPLOYMENT_SWAPPED, 1) in seen
    assert (EventType.DEPLOYMENT_SWAPPED, 2) in seen


def test_redis_holds_the_cached_registry_records(flow, live):
    client = make_redis_client(live)
    try:
        for number in (1, 2):
            key = f"synapse:cache:{record_key(flow['name'], number)}"
            assert client.exists(key) == 1, key
            assert 0 < client.pttl(key) <= 300_000
    finally:
        client.close()


def test_s3_holds_the_artifacts_and_checkpoints(flow):
    store = backends.get_storage()
    for job in flow["jobs"]:
        prefix = f"{flow['name']}/{job['id']}/"
        (artifact,) = store.list(ARTIFACTS_BUCKET, prefix)
        assert artifact.name == prefix + "model.npz"
        local = flow["root"] / flow["name"] / job["id"] / "model.npz"
        assert store.get(ARTIFACTS_BUCKET, artifact.name) == local.read_bytes()
        assert store.list(CHECKPOINTS_BUCKET, prefix + "checkpoints/")


def test_elasticsearch_holds_the_version_documents(flow):
    result = backends.get_search().search(
        MODEL_VERSIONS_INDEX.name, {"term": {"name": flow["name"]}}, sort=["version"]
    )
    assert [(hit.source["version"], hit.source["stage"]) for hit in result.hits] == [
        (1, "None"),
        (2, "Production"),
    ]


def test_consul_knows_the_service_instances(flow):
    services = backends.get_discovery().client.agent.services()
    names = {entry["Service"] for entry in services.values()}
    assert {"training", "inference", "gateway"} <= names


def test_the_storage_service_lists_what_training_stored(flow):
    platform = flow["platform"]
    listed = platform.gateway.get(
        "/api/storage/api/v1/objects/artifacts", params={"prefix": f"{flow['name']}/"}
    )
    assert listed.status_code == 200, listed.text
    expected = {}
    for job in flow["jobs"]:
        key = f"{flow['name']}/{job['id']}/model.npz"
        expected[key] = sha256((flow["root"] / key).read_bytes())
    assert {item["key"]: item["sha256"] for item in listed.json()["items"]} == expected


def test_a_replica_without_the_artifact_file_loads_it_through_storage(flow):
    platform, name = flow["platform"], flow["name"]
    path = platform.artifact_path(name, 2)
    stored = path.read_bytes()
    path.unlink()  # this replica's host never had the file
    replica = platform.start_replica()
    deployed = replica.deploy(name, 2)
    assert deployed.status_code == 200, deployed.text
    served = replica.predict(name, rows())
    assert served.status_code == 200, served.text
    assert served.json()["version"] == 2
    assert served.json()["predictions"] == flow["served"]["predictions"]
    assert path.read_bytes() == stored
