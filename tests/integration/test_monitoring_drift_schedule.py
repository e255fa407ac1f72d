"""Monitoring checks its configured drift watches on a schedule, as a requested check would."""

import threading
from datetime import datetime

import httpx
import pytest

from shared.backends import get_bus
from shared.clients.base import RetryPolicy, ServiceClient, StaticDiscovery
from shared.clients.features import FeaturesClient
from shared.clients.inprocess import InProcessTransport
from tests.utils.features import FeaturesAPI, at, feature, features_wsgi_app, row
from tests.utils.monitoring import UTCClock, alert_events, alerts, make_monitoring, serving

pytestmark = [pytest.mark.monitoring, pytest.mark.django_db(databases="__all__", transaction=True)]

TRAINING = {"start": at(0), "end": at(50)}
WINDOW = 50 * 3600  # each scheduled check looks at the 50 hours before it


def clock_at(hours: float) -> UTCClock:
    return UTCClock(datetime.fromisoformat(at(hours)))


def watch(view: str) -> dict:
    return {"feature_view": view, "reference": TRAINING, "current_seconds": WINDOW}


def rows_of(start: float, shift: float, prefix: str) -> list[dict]:
    """Return 16 rows of a balance, its mirror (the debt) and an unrelated count."""
    found = []
    for i in range(16):
        balance = (i * 7 % 16) / 4 + shift
        values = {"balance": balance, "debt": -balance, "visits": i * 5 % 16}
        found.append(row(f"{prefix}{i}", at(start + i / 10), **values))
    return found


class Outage(httpx.BaseTransport):
    """The feature store's transport, refusing connections while ``down`` is set."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.down = inner, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def views() -> tuple[str, ...]:
    """The views the store holds and monitoring watches."""
    return ("risk",)


@pytest.fixture
def store(views):
    """``risk`` shifts between 100 h and 150 h; ``ledger`` never moves."""
    api = FeaturesAPI()
    schema = [feature("balance", "float64"), feature("debt", "float64"), feature("visits", "int64")]
    for view in views:
        shift = 6 if view == "risk" else 0
        api.view(view, schema)
        rows = rows_of(0, 0, "r") + rows_of(100, shift, "s") + rows_of(200, 0, "t")
        api.backfill(view, rows)
    transport = Outage(InProcessTransport({"features": features_wsgi_app()}))
    client = ServiceClient(
        "features",
        discovery=StaticDiscovery({"features": "http://features"}),
        transport=transport,
        retry=RetryPolicy(max_attempts=1),
    )
    return FeaturesClient(client), transport


@pytest.fixture
def schedule(store, views):
    """A monitoring app watching the views, its clock at 150 h (the serving shift)."""
    features, transport = store
    env = make_monitoring(
        bus=get_bus(),
        clock=clock_at(150),
        features=features,
        drift_watches=[watch(view) for view in views],
    )
    with serving(env) as client:
        yield env, client, transport


def firing(client) -> list[tuple[str, str]]:
    return [(a["rule"], a["model"]) for a in alerts(client, status="firing")]


def watch_states(client) -> dict[str, dict]:
    response = client.get("/api/v1/drift/watches")
    assert response.status_code == 200, response.text
    return {item["feature_view"]: item for item in response.json()["items"]}


@pytest.mark.parametrize("views", [("risk", "ledger")], ids=["risk-and-ledger"])
def test_a_scheduled_tick_raises_one_alert_for_the_drifted_group_and_none_for_the_stable_view(
    schedule,
):
    env, client, _ = schedule
    env.app.state.drift_schedule.tick()
    assert firing(client) == [("feature_drift:risk", "balance+debt")]
    states = watch_states(client)
    assert [(s["status"], s["checks"], s["failures"]) for s in states.values()] == [
        ("ok", 1, 0),
        ("ok", 1, 0),
    ]


def test_ticks_while_the_drift_persists_raise_and_announce_it_once(schedule):
    env, client, _ = schedule
    for _ in range(3):
        env.app.state.drift_schedule.tick()
        env.clock.advance(600)
    assert firing(client) == [("feature_drift:risk", "balance+debt")]
    fired = [(e["type"], e["model"]) for e in alert_events(env.bus)]
    assert fired == [("alert.fired", "balance+debt")]


def test_a_tick_once_serving_looks_like_training_again_resolves_the_alert(schedule):
    env, client, _ = schedule
    env.app.state.drift_schedule.tick()
    env.clock.advance(100 * 3600)  # the window now covers 200 h - 250 h
    env.app.state.drift_schedule.tick()
    assert firing(client) == []
    resolved = alerts(client, status="resolved")
    assert [(a["model"], a["resolved_at"]) for a in resolved] == [("balance+debt", at(250))]


def test_a_watch_whose_feature_store_is_down_records_the_failure_and_keeps_the_schedule(
    schedule,
):
    env, client, transport = schedule
    transport.down = True
    env.app.state.drift_schedule.tick()
    failed = watch_states(client)["risk"]
    assert (failed["status"], failed["checks"], failed["failures"]) == ("failed", 1, 1)
    assert failed["last_error"] and failed["last_ok_at"] is None
    assert alerts(client) == []
    transport.down = False
    env.clock.advance(600)
    env.app.state.drift_schedule.tick()
    recovered = watch_states(client)["risk"]
    assert (recovered["status"], recovered["checks"], recovered["failures"]) == ("ok", 2, 1)
    assert recovered["last_error"] is None
    assert firing(client) == [("feature_drift:risk", "balance+debt")]


def test_a_requested_check_and_a_scheduled_one_share_the_open_alert(schedule):
    env, client, _ = schedule
    current = {"start": at(100), "end": at(150)}
    body = {"feature_view": "risk", "reference": TRAINING, "current": current}
    requested = client.post("/api/v1/drift/checks", json=body)
    assert [a["model"] for a in requested.json()["alerts"]] == ["balance+debt"]
    assert env.app.state.drift_schedule.tick()[0].alerts == []
    assert firing(client) == [("feature_drift:risk", "balance+debt")]


class CannedDrift:
    """A feature store whose report always flags one group; ``asked`` is set on each request."""

    def __init__(self) -> None:
        self.asked = threading.Event()

    def drift(self, view: str, reference: dict, current: dict) -> dict:
        self.asked.set()
        score = {"psi": 0.9, "ks": 0.5, "drifted": True}
        return {"features": {"amount": score}, "alerts": [{"features": ["amount"], "psi": 0.9}]}


def test_the_app_checks_its_watches_in_the_background_while_it_runs():
    features = CannedDrift()
    env = make_monitoring(
        bus=get_bus(),
        clock=clock_at(150),
        features=features,
        drift_watches=[watch("txn")],
        drift_check_interval_s=3600,
    )
    with serving(env) as client:
        assert features.asked.wait(timeout=5), "the schedule never ran"
        interval = client.get("/api/v1/drift/watches").json()["interval_seconds"]
    assert interval == 3600
    assert [(e["type"], e["rule"]) for e in alert_events(env.bus)] == [
        ("alert.fired", "feature_drift:txn")
    ]


def test_interval_zero_leaves_the_watches_unchecked():
    features = CannedDrift()
    env = make_monitoring(bus=get_bus(), features=features, drift_watches=[watch("txn")])
    with serving(env) as client:
        states = watch_states(client)
    assert states["txn"]["status"] == "pending" and states["txn"]["checks"] == 0
    assert not features.asked.is_set()
