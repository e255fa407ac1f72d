"""The slice at runtime on its infrastructure ports: events, cache, object storage and search.

Every port is the in-process backend (tests/conftest.py); flows go through the gateway and
the services' HTTP APIs, and the checks read the ports back: a consumer group on the bus,
the cache keys, the bucket listing and the search index.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.inference.registry_cache import record_key
from shared.backends import get_bus, get_cache, get_storage
from shared.events.schema import EventType, read_event
from shared.storage.bootstrap import ARTIFACTS_BUCKET, CHECKPOINTS_BUCKET
from shared.utils.timeutils import parse_iso8601, utcnow
from tests.utils.platform import PLATFORM_DB, rows

pytestmark = [PLATFORM_DB]


def observe(*topics: str):
    """Join a fresh consumer group reading the topics from the beginning."""
    return get_bus().subscribe(list(topics), f"test-observer-{'-'.join(topics)}", "earliest")


def envelopes(consumer) -> list:
    """Return every envelope waiting for the consumer, validated against the schema."""
    found = []
    while batch := consumer.poll(max_records=100):
        found.extend(read_event(event) for event in batch)
    return found


def of_type(found, event_type):
    return [envelope.data for envelope in found if envelope.type == event_type]


@pytest.mark.registry
def test_registration_and_promotion_are_published_after_commit(platform):
    watcher = observe("models.versions")
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    platform.promote("churn", v1.version)
    platform.promote("churn", v2.version)
    found = envelopes(watcher)
    registered = of_type(found, EventType.MODEL_VERSION_REGISTERED)
    assert [(d["name"], d["version"]) for d in registered] == [("churn", 1), ("churn", 2)]
    assert registered[0]["artifact_uri"] == platform.version("churn", 1)["artifact_uri"]
    promoted = of_type(found, EventType.MODEL_VERSION_PROMOTED)
    assert [(d["version"], d["archived_versions"]) for d in promoted] == [(1, []), (2, [1])]
    assert {envelope.source for envelope in found} == {"registry"}


@pytest.mark.registry
def test_registered_versions_are_searchable_with_their_current_stage(platform):
    platform.train("churn", seed=7)
    platform.train("churn", seed=8)
    platform.train("fraud", seed=9)
    platform.promote("churn", 2)
    search = "/api/registry/api/v1/search/versions"
    churn = platform.gateway.get(search, params={"name": "churn"}).json()
    assert churn["total"] == 2
    assert [(d["version"], d["stage"]) for d in churn["items"]] == [(2, "Production"), (1, "None")]
    words = platform.gateway.get(search, params={"q": "fraud"}).json()
    assert [(d["name"], d["version"]) for d in words["items"]] == [("fraud", 1)]
    production = platform.gateway.get(search, params={"stage": "Production"}).json()
    assert [(d["name"], d["version"]) for d in production["items"]] == [("churn", 2)]


@pytest.mark.registry
def test_search_shows_a_replaced_production_version_as_archived(platform):
    for seed in (7, 8, 9):
        platform.train("churn", seed=seed)
    for version in (1, 2, 3):
        platform.promote("churn", version)
    search = "/api/registry/api/v1/search/versions"
    production = platform.gateway.get(search, params={"stage": "Production"}).json()
    assert [(d["name"], d["version"]) for d in production["items"]] == [("churn", 3)]
    churn = platform.gateway.get(search, params={"name": "churn"}).json()
    stages = [(d["version"], d["stage"]) for d in churn["items"]]
    assert stages == [(3, "Production"), (2, "Archived"), (1, "Archived")]


@pytest.mark.registry
@pytest.mark.parametrize(
    "params", [{"stage": "Live"}, {"size": "0"}, {"size": "x"}, {"name": "../etc"}]
)
def test_version_search_refuses_bad_parameters_with_422(platform, params):
    response = platform.gateway.get("/api/registry/api/v1/search/versions", params=params)
    assert response.status_code == 422, response.text


@pytest.mark.training
def test_finished_job_is_announced_with_its_version_and_metrics(platform):
    watcher = observe("training.jobs")
    trained = platform.train("churn")
    (completed,) = of_type(envelopes(watcher), EventType.TRAINING_JOB_COMPLETED)
    assert completed["job_id"] == trained.job["id"]
    assert completed["model_version"] == trained.version
    assert completed["metrics"] == trained.job["metrics"]


@pytest.mark.training
def test_failed_job_is_announced_with_its_error(platform):
    watcher = observe("training.jobs")
    body = {
        "model_name": "churn",
        "dataset": {"kind": "classification", "n_samples": 64, "n_features": 3, "seed": 1},
        "hyperparams": {"lr": 0.2, "epochs": 1, "batch_size": 16, "seed": 1},
    }
    platform.trainer.fail_with = RuntimeError("diverged at epoch 1")
    accepted = platform.gateway.post("/api/training/api/v1/jobs", json=body)
    assert accepted.status_code == 202, accepted.text
    (failed,) = of_type(envelopes(watcher), EventType.TRAINING_JOB_FAILED)
    assert failed["job_id"] == accepted.json()["id"]
    assert failed["error"] == "RuntimeError: diverged at epoch 1"


@pytest.mark.inference
def test_announced_events_say_when_they_happened_as_an_unambiguous_instant(platform):
    # Consumers outside the platform (sinks, audit jobs) read the raw records, not envelopes.
    watcher = observe("models.versions", "training.jobs", "inference.deployments")
    started = utcnow()
    trained = platform.train("churn")
    platform.promote("churn", trained.version)
    assert platform.deploy("churn", trained.version).status_code == 200
    finished = utcnow()
    records = []
    while batch := watcher.poll(max_records=100):
        records.extend(batch)
    assert len(records) == 4  # registration, job outcome, promotion, deployment
    for record in records:
        moment = parse_iso8601(record.value["occurred_at"])
        assert started - timedelta(seconds=1) <= moment <= finished + timedelta(seconds=1)


@pytest.mark.training
def test_trained_artifact_and_checkpoints_are_in_object_storage(platform):
    trained = platform.train("churn")
    prefix = f"churn/{trained.job['id']}/"
    local = platform.artifact_path("churn", trained.version)
    stored = get_storage().get(ARTIFACTS_BUCKET, prefix + "model.npz")
    assert stored == local.read_bytes()
    checkpoints = [info.name for info in get_storage().list(CHECKPOINTS_BUCKET, prefix)]
    assert checkpoints and all(name.startswith(prefix + "checkpoints/") for name in checkpoints)


@pytest.mark.inference
def test_deploying_announces_the_model_deployed_with_its_predecessor(platform):
    watcher = observe("inference.deployments")
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    for trained in (v1, v2):
        assert platform.deploy("churn", trained.version).status_code == 200
    swapped = of_type(envelopes(watcher), EventType.DEPLOYMENT_SWAPPED)
    assert swapped == [
        {"name": "churn", "version": 1, "previous_version": None},
        {"name": "churn", "version": 2, "previous_version": 1},
    ]


@pytest.mark.inference
def test_registry_lookups_are_cached_per_version(platform):
    trained = platform.train("churn")
    registry = platform.inference.state.registry
    for _ in range(3):
        assert platform.deploy("churn", trained.version).status_code == 200
    assert (registry.misses, registry.hits) == (1, 2)
    cached = get_cache().get_json(record_key("churn", trained.version))
    assert cached["artifact_uri"] == platform.version("churn", trained.version)["artifact_uri"]


@pytest.mark.inference
def test_promotion_event_invalidates_the_cache_and_swaps_the_deployed_model(platform):
    watcher = observe("inference.deployments")
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    for version in (v2.version, v1.version):
        assert platform.deploy("churn", version).status_code == 200
    assert get_cache().get_json(record_key("churn", 2))["stage"] == "None"
    platform.promote("churn", v2.version)
    follower = platform.inference.state.follower
    assert follower.process_pending() == 3  # two registrations and the promotion
    assert follower.handled == 1
    # The stale record was dropped; the swap re-read the promoted version from the registry.
    assert get_cache().get_json(record_key("churn", 2))["stage"] == "Production"
    assert platform.predict("churn", rows()).json()["version"] == 2
    assert of_type(envelopes(watcher), EventType.DEPLOYMENT_SWAPPED)[-1] == {
        "name": "churn",
        "version": 2,
        "previous_version": 1,
    }


@pytest.mark.inference
def test_rolling_back_after_a_promotion_reads_the_archived_version_as_the_registry_has_it(
    platform,
):
    v1 = platform.train("churn", seed=7)
    v2 = platform.train("churn", seed=8)
    follower = platform.inference.state.follower
    platform.promote("churn", v1.version)
    assert follower.process_pending() == 3
    assert platform.deploy("churn", v1.version).status_code == 200
    platform.promote("churn", v2.version)
    assert follower.process_pending() == 1
    assert platform.predict("churn", rows()).json()["version"] == v2.version
    assert platform.deploy("churn", v1.version).status_code == 200
    registry_record = platform.version("churn", v1.version)
    assert registry_record["stage"] == "Archived"
    assert get_cache().get_json(record_key("churn", v1.version)) == registry_record


@pytest.mark.inference
def test_replica_without_the_file_loads_the_artifact_from_object_storage(platform):
    trained = platform.train("churn")
    local = platform.artifact_path("churn", trained.version)
    original = local.read_bytes()
    local.unlink()
    assert platform.deploy("churn", trained.version).status_code == 200
    assert local.read_bytes() == original
    assert platform.predict("churn", rows()).json()["version"] == trained.version


@pytest.mark.registry
def test_rolled_back_registration_is_neither_published_nor_indexed(platform):
    watcher = observe("models.versions")
    url = "/api/registry/api/v1/registered-models/churn/versions"
    body = {"artifact_uri": "file:///tmp/churn.npz", "parent_version": 9}
    assert platform.gateway.post(url, json=body).status_code == 422
    assert envelopes(watcher) == []
    search = platform.gateway.get("/api/registry/api/v1/search/versions").json()
    assert search["total"] == 0


@pytest.mark.inference
def test_follower_skips_a_malformed_event_and_keeps_following(platform):
    follower = platform.inference.state.follower
    get_bus().publish("models.versions", {"type": "model.version.promoted"}, key="churn")
    trained = platform.train("churn")
    assert platform.deploy("churn", trained.version).status_code == 200
    platform.promote("churn", trained.version)
    assert follower.process_pending() == 3  # the bad record, the registration, the promotion
    assert follower.handled == 1
