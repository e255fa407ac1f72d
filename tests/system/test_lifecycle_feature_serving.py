"""Train on the feature store, serve by entity: one feature view feeds both sides of the model."""

import pytest

from tests.utils.features import FeaturesAPI, ago, at, feature, row
from tests.utils.platform import PLATFORM_DB

pytestmark = [pytest.mark.inference, PLATFORM_DB]

ACCOUNTS = [
    feature("visits", "int64"),
    feature("balance", "decimal", {"op": "shift", "by": 10}, {"op": "scale", "factor": 2}),
]


def served_balance(raw: float) -> float:
    return (raw + 10) * 2


@pytest.fixture
def trained(platform):
    """Train churn on balances known at noon (a later backfill must not leak), then deploy it."""
    store = FeaturesAPI()
    store.view("accounts", ACCOUNTS, ttl=2 * 24 * 3600)
    store.backfill("accounts", [row(f"c{i}", at(0), visits=i % 3, balance=i) for i in range(12)])
    store.backfill("accounts", [row(f"c{i}", at(18), visits=9, balance=500) for i in range(12)])
    entity_rows = [
        {"entity_key": f"c{i}", "event_time": at(12), "label": int(i >= 6)} for i in range(12)
    ]
    body = {
        "model_name": "churn",
        "dataset": {
            "feature_view": "accounts",
            "features": ["balance", "visits"],
            "entity_rows": entity_rows,
        },
        "hyperparams": {"lr": 0.2, "epochs": 3, "batch_size": 4, "seed": 5},
    }
    accepted = platform.gateway.post("/api/training/api/v1/jobs", json=body)
    job = platform.gateway.get(f"/api/training/api/v1/jobs/{accepted.json()['id']}").json()
    assert job["status"] == "succeeded", job
    platform.promote("churn", job["model_version"])
    assert platform.deploy("churn", job["model_version"]).status_code == 200
    return store, job


def test_job_trained_on_the_values_known_at_noon_only(trained):
    _, job = trained
    assert job["dataset"]["means"] == {"balance": 31.0, "visits": 1.0}
    assert job["dataset"]["version"] == 1


def test_entity_predictions_equal_predictions_on_their_served_values(platform, trained):
    store, _ = trained
    store.push(
        "accounts",
        [row("c3", ago(1), visits=2, balance=4), row("c8", ago(1), visits=0, balance=-3)],
    )
    rows = [
        {"visits": 2.0, "balance": served_balance(4)},
        {"visits": 0.0, "balance": served_balance(-3)},
    ]
    sent = platform.predict("churn", rows)
    looked_up = platform.gateway.post(
        "/api/inference/api/v1/models/churn/predict",
        json={"entities": {"feature_view": "accounts", "keys": ["c3", "c8"]}},
    )
    assert looked_up.status_code == 200, looked_up.text
    assert looked_up.json()["predictions"] == sent.json()["predictions"]


def test_entity_whose_online_value_is_days_old_is_refused(platform, trained):
    store, _ = trained
    store.push("accounts", [row("c4", ago(3 * 24 + 1), visits=1, balance=1)])
    refused = platform.gateway.post(
        "/api/inference/api/v1/models/churn/predict",
        json={"entities": {"feature_view": "accounts", "keys": ["c4"]}},
    )
    assert refused.status_code == 422, refused.text
