"""Hostile or misplaced artifacts are refused by the deployment API without side effects."""

from __future__ import annotations

import pytest

from shared.ml.model_loader import file_sha256, save_model
from tests.utils.inference import ROWS, make_artifact, make_env, running, write_hostile_npz

pytestmark = pytest.mark.inference

DEPLOY = "/api/v1/deployments/churn"


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "artifacts"
    root.mkdir()
    return make_env(root)


@pytest.fixture
def client(env):
    with running(env) as client:
        yield client


def deploy(client, version):
    return client.post(DEPLOY, json={"version": version})


def test_code_hidden_in_an_artifact_is_refused_at_deploy_and_never_runs(env, client, tmp_path):
    marker = tmp_path / "payload-ran"
    write_hostile_npz(env.root / "churn" / "evil.npz", marker)
    env.registry.add("churn", 1, "churn/evil.npz")
    response = deploy(client, 1)
    assert response.status_code == 422
    assert response.json()["error"] == "unsafe_artifact"
    assert not marker.exists()


def test_hostile_version_does_not_replace_the_serving_version(env, client, tmp_path):
    marker = tmp_path / "payload-ran"
    env.publish("churn", 1, make_artifact(seed=1))
    write_hostile_npz(env.root / "churn" / "v2" / "model.npz", marker, keys=("header", "w/W"))
    env.registry.add("churn", 2, "churn/v2/model.npz")
    assert deploy(client, 1).status_code == 200
    assert deploy(client, 2).status_code == 422
    body = client.post("/api/v1/models/churn/predict", json={"instances": ROWS}).json()
    assert body["version"] == 1
    assert not marker.exists()


def test_relative_path_escaping_the_root_is_refused_before_loading(env, client, tmp_path):
    outside = tmp_path / "outside.npz"
    save_model(make_artifact(seed=1), outside)
    env.registry.add("churn", 1, "../outside.npz")
    response = deploy(client, 1)
    assert response.status_code == 422
    assert env.loader.calls == []


def test_absolute_path_outside_the_root_is_refused(env, client, tmp_path):
    outside = tmp_path / "elsewhere" / "model.npz"
    save_model(make_artifact(seed=1), outside)
    env.registry.add("churn", 1, str(outside))
    assert deploy(client, 1).status_code == 422
    assert env.loader.calls == []


def test_file_uri_outside_the_root_is_refused(env, client):
    env.registry.add("churn", 1, "file:///etc/passwd")
    assert deploy(client, 1).status_code == 422
    assert env.loader.calls == []


def test_an_artifact_stored_outside_the_root_is_never_deployed(env, client, tmp_path):
    outside = tmp_path / "secret.npz"
    save_model(make_artifact(seed=1), outside)
    (env.root / "churn").mkdir()
    (env.root / "churn" / "model.npz").symlink_to(outside)
    env.registry.add("churn", 1, "churn/model.npz")
    assert deploy(client, 1).status_code == 422
    assert env.loader.calls == []


def test_remote_artifact_uri_is_refused_without_fetching(env, client):
    env.registry.add("churn", 1, "http://169.254.169.254/latest/model.npz")
    response = deploy(client, 1)
    assert response.status_code == 422
    assert env.registry.requests == ["/health", "/api/v1/registered-models/churn/versions/1"]


def test_file_uri_naming_a_remote_host_is_refused(env, client):
    env.registry.add("churn", 1, "file://fileserver/share/churn/model.npz")
    assert deploy(client, 1).status_code == 422
    assert env.loader.calls == []


def test_artifact_whose_checksum_differs_from_the_registry_is_refused(env, client):
    path = env.publish("churn", 1, make_artifact(seed=1), artifact_sha256="0" * 64)
    response = deploy(client, 1)
    assert response.status_code == 422
    assert response.json()["error"] == "unsafe_artifact"
    assert file_sha256(path) != "0" * 64


def test_artifact_matching_the_registry_checksum_is_served(env, client):
    path = env.root / "churn" / "v1" / "model.npz"
    digest = save_model(make_artifact(seed=1), path)
    env.registry.add("churn", 1, "churn/v1/model.npz", artifact_sha256=digest)
    assert deploy(client, 1).status_code == 200
