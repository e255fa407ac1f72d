"""Monitoring checks the feature store's drift between training and serving windows."""

import pytest

from shared.backends import get_bus
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.features import FeaturesClient
from shared.clients.inprocess import InProcessTransport
from shared.events import schema
from shared.events.schema import EventType
from tests.utils.events import drain
from tests.utils.features import FeaturesAPI, at, feature, features_wsgi_app, row
from tests.utils.monitoring import make_monitoring, serving

pytestmark = [pytest.mark.monitoring, pytest.mark.django_db(databases="__all__", transaction=True)]

TRAINING = (at(0), at(50))
SERVING = (at(100), at(150))
LATER = (at(200), at(250))


def risk_rows(start: float, shift: float, prefix: str) -> list[dict]:
    """Return 16 rows of a balance, its mirror (the debt) and an unrelated count."""
    rows = []
    for i in range(16):
        balance = (i * 7 % 16) / 4 + shift
        visits = i * 5 % 16
        rows.append(
            row(f"{prefix}{i}", at(start + i / 10), balance=balance, debt=-balance, visits=visits)
        )
    return rows


@pytest.fixture
def features():
    api = FeaturesAPI()
    schema_ = [
        feature("balance", "float64"),
        feature("debt", "float64"),
        feature("visits", "int64"),
    ]
    api.view("risk", schema_)
    api.backfill("risk", risk_rows(0, 0, "r") + risk_rows(100, 6, "s") + risk_rows(200, 0, "t"))
    client = ServiceClient(
        "features",
        discovery=StaticDiscovery({"features": "http://features"}),
        transport=InProcessTransport({"features": features_wsgi_app()}),
        retry=RetryPolicy(max_attempts=1),
    )
    return FeaturesClient(client)


@pytest.fixture
def monitoring(features):
    env = make_monitoring(bus=get_bus(), features=features)
    with serving(env) as client:
        yield client


def check(client, current, view="risk"):
    body = {
        "feature_view": view,
        "reference": {"start": TRAINING[0], "end": TRAINING[1]},
        "current": {"start": current[0], "end": current[1]},
    }
    return client.post("/api/v1/drift/checks", json=body)


def test_shift_of_a_feature_and_its_mirror_raises_one_alert(monitoring):
    checked = check(monitoring, SERVING)
    assert checked.status_code == 200, checked.text
    assert [(a["model"], a["status"]) for a in checked.json()["alerts"]] == [
        ("balance+debt", "firing")
    ]


def test_drift_that_persists_raises_nothing_new(monitoring):
    check(monitoring, SERVING)
    again = check(monitoring, SERVING)
    firing = monitoring.get("/api/v1/alerts", params={"status": "firing"}).json()["items"]
    assert again.json()["alerts"] == []
    assert [a["model"] for a in firing] == ["balance+debt"]


def test_drift_alert_resolves_once_serving_matches_training_again(monitoring):
    check(monitoring, SERVING)
    settled = check(monitoring, LATER)
    assert [(a["model"], a["status"]) for a in settled.json()["alerts"]] == [
        ("balance+debt", "resolved")
    ]


def test_serving_window_like_the_training_window_raises_nothing(monitoring):
    checked = check(monitoring, LATER)
    assert checked.json()["alerts"] == []
    assert not any(f["drifted"] for f in checked.json()["features"].values())


def test_drift_alert_is_announced_once(monitoring):
    consumer = get_bus().subscribe(["monitoring.alerts"], "pager")
    check(monitoring, SERVING)
    check(monitoring, SERVING)
    fired = [schema.read_event(e) for e in drain(consumer)]
    assert [(e.type, e.data["rule"], e.data["model"]) for e in fired] == [
        (EventType.ALERT_FIRED, "feature_drift:risk", "balance+debt")
    ]


def test_drift_check_of_an_unknown_view_is_404(monitoring):
    assert check(monitoring, SERVING, view="ledger").status_code == 404


def test_drift_check_without_a_feature_store_is_503():
    env = make_monitoring(bus=get_bus())
    with serving(env) as client:
        refused = check(client, SERVING)
    assert refused.status_code == 503
