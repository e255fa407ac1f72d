"""Held-out: split boundaries on another model, other shares and other request keys."""

from __future__ import annotations

import pytest

from tests.utils.inference import deploy_ok, make_artifact, make_env, running, served_version, split

pytestmark = pytest.mark.inference

# Request keys of model "ranker" by their bucket (same documented hash as the visible tests).
RANKER_KEYS = {
    2499: "customer-4793",
    2500: "customer-10122",
    7999: "customer-1510",
    8000: "customer-14663",
    9499: "customer-32889",
    9500: "customer-13580",
}


@pytest.fixture
def client(tmp_path):
    env = make_env(tmp_path)
    for version in (1, 2, 3):
        env.publish("ranker", version, make_artifact("linear", seed=version), stage="Production")
    with running(env) as client:
        deploy_ok(client, "ranker", 1)
        yield client


def test_eighty_twenty_canary_owns_the_bucket_at_its_start(client):
    assert split(client, "ranker", {1: 80, 2: 20}).status_code == 200
    got = [served_version(client, "ranker", RANKER_KEYS[b]) for b in (7999, 8000)]
    assert got == [1, 2]


def test_quarter_quarter_half_hands_over_at_2500(client):
    assert split(client, "ranker", {3: 25, 2: 25, 1: 50}).status_code == 200
    got = [served_version(client, "ranker", RANKER_KEYS[b]) for b in (2499, 2500)]
    assert got == [3, 2]


def test_ninety_five_five_reports_and_serves_its_share(client):
    body = split(client, "ranker", {1: "95", 2: "5"}).json()
    assert [r["buckets"] for r in body["routes"]] == [9500, 500]
    assert served_version(client, "ranker", RANKER_KEYS[9500]) == 2


def test_fourteen_point_one_percent_owns_1410_buckets(client):
    body = split(client, "ranker", {2: "14.1", 1: "85.9"}).json()
    assert [r["buckets"] for r in body["routes"]] == [1410, 8590]
