"""Training jobs learn from point-in-time feature-store training sets and record what they used."""

import pytest

from shared.clients.base import ServiceClient, StaticDiscovery
from shared.clients.features import FeaturesClient
from shared.clients.inprocess import InProcessTransport
from tests.utils.features import FeaturesAPI, at, feature, features_wsgi_app, row
from tests.utils.training import job_payload, make_training_env

pytestmark = [pytest.mark.training, pytest.mark.django_db(databases="__all__", transaction=True)]

BALANCE = [
    feature("balance", "decimal", {"op": "shift", "by": 10}, {"op": "scale", "factor": 2}),
    feature("visits", "int64"),
]


@pytest.fixture
def store():
    api = FeaturesAPI()
    api.view("balances", BALANCE, ttl=2 * 24 * 3600)
    return api


@pytest.fixture
def env(tmp_path):
    transport = InProcessTransport({"features": features_wsgi_app()})
    client = ServiceClient(
        "features", discovery=StaticDiscovery({"features": "http://features"}), transport=transport
    )
    return make_training_env(tmp_path, features=FeaturesClient(client))


def entity_rows(hours: float = 12, n: int = 8, **extra):
    """Return n labelled rows, one per customer, all at the same moment of the day."""
    return [
        {"entity_key": f"c{i}", "event_time": at(hours), "label": i % 2, **extra} for i in range(n)
    ]


def history(n: int = 8, hours: float = 0, balance=lambda i: i, visits=lambda i: i % 3):
    return [row(f"c{i}", at(hours), balance=balance(i), visits=visits(i)) for i in range(n)]


def train(env, rows, **spec):
    body = {"feature_view": "balances", "features": ["balance", "visits"], "entity_rows": rows}
    payload = job_payload("churn", dataset={**body, **spec}, hyperparams={"epochs": 1, "seed": 3})
    accepted = env.client.post("/api/v1/jobs", json=payload)
    assert accepted.status_code == 202, accepted.text
    return env.client.get(f"/api/v1/jobs/{accepted.json()['id']}").json()


def test_job_trains_on_the_values_known_at_each_rows_event_time(store, env):
    store.backfill("balances", history(balance=lambda i: i))
    job = train(env, entity_rows())
    assert job["status"] == "succeeded", job["error"]
    # (balance + 10) * 2 over balances 0..7
    assert job["dataset"]["means"] == {"balance": 27.0, "visits": 0.875}


def test_value_written_after_a_rows_event_time_never_reaches_the_job(store, env):
    store.backfill("balances", history(hours=0, balance=lambda i: 1))
    store.backfill("balances", history(hours=18, balance=lambda i: 1000))
    job = train(env, entity_rows(hours=12))
    assert job["dataset"]["means"]["balance"] == 22.0


def test_job_records_the_feature_view_version_it_trained_on(store, env):
    store.backfill("balances", history())
    job = train(env, entity_rows())
    assert (job["dataset"]["feature_view"], job["dataset"]["version"]) == ("balances", 1)
    assert env.registry.versions["churn"][0]["params"]["dataset"]["version"] == 1


def test_job_pinned_to_an_older_schema_trains_with_that_schema(store, env):
    store.backfill("balances", history(balance=lambda i: 5))
    store.view("balances", [feature("balance", "decimal"), feature("visits", "int64")])
    pinned = train(env, entity_rows(), version=1)
    newest = train(env, entity_rows())
    assert (pinned["dataset"]["version"], pinned["dataset"]["means"]["balance"]) == (1, 30.0)
    assert (newest["dataset"]["version"], newest["dataset"]["means"]["balance"]) == (2, 5.0)


def test_rows_without_a_fresh_value_are_dropped_and_counted(store, env):
    store.backfill("balances", history(n=6, hours=0))
    store.backfill("balances", history(n=8, hours=-24 * 5)[6:])
    job = train(env, entity_rows(hours=12))
    assert (job["dataset"]["rows"], job["dataset"]["dropped_rows"]) == (6, 2)
    assert job["model_version"] == 1


def test_job_whose_rows_have_no_features_fails_saying_so(store, env):
    job = train(env, entity_rows())
    assert job["status"] == "failed"
    assert "0 entity rows have every feature" in job["error"]


def test_job_naming_an_unknown_feature_view_fails_with_the_stores_answer(store, env):
    job = train(env, entity_rows(), feature_view="ledger")
    assert job["status"] == "failed"
    assert "ledger" in job["error"]


def test_history_backfilled_after_newer_values_still_joins_as_of_each_row(store, env):
    store.backfill("balances", history(hours=0, balance=lambda i: 1))
    store.backfill("balances", history(hours=6, balance=lambda i: 2))
    store.backfill("balances", history(hours=-20, balance=lambda i: 1000))
    job = train(env, entity_rows(hours=12))
    assert job["dataset"]["means"]["balance"] == 24.0


def test_rows_stamped_in_another_zone_join_the_value_known_at_that_instant(store, env):
    store.backfill("balances", history(hours=0, balance=lambda i: 3))
    store.backfill("balances", history(hours=6, balance=lambda i: 50))
    # 10:30 at +05:30 is 05:00 UTC: before the 06:00 values.
    rows = [
        {"entity_key": f"c{i}", "event_time": "2026-03-01T10:30:00+05:30", "label": i % 2}
        for i in range(8)
    ]
    job = train(env, rows)
    assert job["dataset"]["means"]["balance"] == 26.0


def test_churn_decided_by_the_balance_known_at_each_row_is_learned_exactly(store, env):
    # A customer churns while their balance is 40 or more.
    store.backfill("balances", history(hours=0, balance=lambda i: 10 * i, visits=lambda i: 1))
    store.backfill("balances", history(hours=24, balance=lambda i: 70 - 10 * i, visits=lambda i: 1))
    rows = [
        {"entity_key": f"c{i}", "event_time": at(hours), "label": int(balance >= 40)}
        for i in range(8)
        for hours, balance in ((12, 10 * i), (36, 70 - 10 * i))
    ]
    body = {"feature_view": "balances", "features": ["balance", "visits"], "entity_rows": rows}
    hyperparams = {"lr": 0.5, "epochs": 20, "batch_size": 4, "seed": 3}
    accepted = env.client.post(
        "/api/v1/jobs", json=job_payload("churn", dataset=body, hyperparams=hyperparams)
    )
    job = env.client.get(f"/api/v1/jobs/{accepted.json()['id']}").json()
    assert job["status"] == "succeeded", job["error"]
    assert job["metrics"]["accuracy"] == 1.0
