"""Predictions by entity: inference reads the entities' online features from the feature store."""

import pytest

from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.features import FeaturesClient
from shared.clients.inprocess import InProcessTransport
from tests.utils.features import FeaturesAPI, ago, feature, features_wsgi_app, row
from tests.utils.inference import ROWS, deploy_ok, make_artifact, make_env, running

pytestmark = [pytest.mark.inference, pytest.mark.django_db(databases="__all__", transaction=True)]

# The view lists the model's features in another order than the model was trained with.
USAGE = [feature("calls", "int64"), feature("spend", "decimal"), feature("tenure", "float64")]


def features_client(transport):
    return FeaturesClient(
        ServiceClient(
            "features",
            discovery=StaticDiscovery({"features": "http://features"}),
            transport=transport,
            retry=RetryPolicy(max_attempts=1),
        )
    )


@pytest.fixture
def transport():
    return InProcessTransport({"features": features_wsgi_app()})


@pytest.fixture
def store():
    api = FeaturesAPI()
    api.view("usage", USAGE, ttl=24 * 3600)
    api.push("usage", [row(f"c{i}", ago(1), **ROWS[i]) for i in range(3)])
    return api


@pytest.fixture
def served(tmp_path, transport):
    env = make_env(tmp_path, features=features_client(transport))
    env.publish("churn", 1, make_artifact("logistic", seed=4))
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        yield client


def by_entities(client, *keys, view="usage"):
    body = {"entities": {"feature_view": view, "keys": list(keys)}}
    return client.post("/api/v1/models/churn/predict", json=body)


def test_entities_are_predicted_as_their_online_values_would_be(store, served):
    sent = served.post("/api/v1/models/churn/predict", json={"instances": ROWS[::-1]})
    looked_up = by_entities(served, "c2", "c1", "c0")
    assert looked_up.status_code == 200, looked_up.text
    assert looked_up.json()["predictions"] == sent.json()["predictions"]


def test_unknown_entity_is_422_naming_it(store, served):
    refused = by_entities(served, "c0", "c404")
    assert refused.status_code == 422, refused.text
    assert refused.json()["details"][0]["loc"] == ["entities", "keys", 1]
    assert "c404" in refused.json()["detail"]


def test_entity_whose_online_values_expired_is_422(store, served):
    store.push("usage", [row("c9", ago(30), **ROWS[0])])
    refused = by_entities(served, "c9")
    assert refused.status_code == 422, refused.text
    assert "c9" in refused.json()["detail"]


def test_view_without_a_feature_the_model_needs_is_422_naming_it(store, served):
    store.view("calls", [feature("calls", "int64"), feature("spend", "decimal")])
    store.push("calls", [row("c0", ago(1), calls=1, spend=2)])
    refused = by_entities(served, "c0", view="calls")
    assert refused.status_code == 422, refused.text
    assert "tenure" in refused.json()["detail"]


def test_request_with_both_rows_and_entities_is_422(served):
    body = {"instances": ROWS, "entities": {"feature_view": "usage", "keys": ["c0"]}}
    refused = served.post("/api/v1/models/churn/predict", json=body)
    assert refused.status_code == 422


def test_entity_predictions_while_the_feature_store_is_down_fail_but_rows_are_served(
    store, served, transport
):
    transport.unmount("features")
    refused = by_entities(served, "c0")
    sent = served.post("/api/v1/models/churn/predict", json={"instances": ROWS})
    assert refused.status_code == 503, refused.text
    assert sent.status_code == 200


def test_replica_without_a_feature_store_refuses_entity_predictions_with_503(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact("logistic", seed=4))
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        refused = by_entities(client, "c0")
    assert refused.status_code == 503
    assert "feature store" in refused.json()["detail"]
