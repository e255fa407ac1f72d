"""A/B and canary routing of one model: exact splits, sticky keys, promotion and rollback."""

from __future__ import annotations

import pytest

from tests.utils.inference import (
    BUCKET_KEYS,
    ROWS,
    deploy_ok,
    make_artifact,
    make_env,
    running,
    served_version,
    split,
)

pytestmark = pytest.mark.inference

ROUTING = "/api/v1/deployments/churn/routing"


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path)
    env.publish("churn", 1, make_artifact("linear", seed=1))
    env.publish("churn", 2, make_artifact("linear", seed=2), stage="Staging")
    env.publish("churn", 3, make_artifact("linear", seed=3), stage="Staging")
    return env


@pytest.fixture
def client(env):
    with running(env) as client:
        deploy_ok(client, "churn", 1)
        yield client


def routed(client, routes, **extra):
    response = split(client, "churn", routes, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def bucket_version(client, bucket):
    return served_version(client, "churn", BUCKET_KEYS[bucket])


def test_ninety_ten_split_gives_the_canary_a_tenth_of_the_buckets(client):
    body = routed(client, {1: 90, 2: 10})
    assert [r["buckets"] for r in body["routes"]] == [9000, 1000]


def test_fifty_seven_forty_three_split_owns_exactly_its_share_of_buckets(client):
    body = routed(client, {1: 57, 2: 43})
    assert [r["buckets"] for r in body["routes"]] == [5700, 4300]
    assert [r["percent"] for r in body["routes"]] == ["57.00", "43.00"]


def test_decimal_thirds_own_exactly_their_share_of_buckets(client):
    body = routed(client, {1: "33.3", 2: "33.3", 3: "33.4"})
    assert [r["buckets"] for r in body["routes"]] == [3330, 3330, 3340]


def test_first_bucket_of_the_canary_share_is_served_by_the_canary(client):
    routed(client, {1: 90, 2: 10})
    assert bucket_version(client, 9000) == 2


def test_last_bucket_of_the_stable_share_is_served_by_the_stable_version(client):
    routed(client, {1: 90, 2: 10})
    assert bucket_version(client, 8999) == 1


def test_even_split_hands_over_at_the_middle_bucket(client):
    routed(client, {1: 50, 2: 50})
    assert (bucket_version(client, 4999), bucket_version(client, 5000)) == (1, 2)


def test_one_percent_canary_starts_at_bucket_9900(client):
    routed(client, {1: 99, 2: 1})
    assert (bucket_version(client, 9899), bucket_version(client, 9900)) == (1, 2)


def test_last_bucket_of_a_fifty_seven_percent_share_stays_on_its_version(client):
    routed(client, {1: 57, 2: 43})
    assert bucket_version(client, 5699) == 1


def test_bucket_after_a_fifty_seven_percent_share_moves_to_the_next_version(client):
    routed(client, {1: 57, 2: 43})
    assert bucket_version(client, 5700) == 2


def test_last_bucket_of_a_decimal_three_way_split_is_served(client):
    routed(client, {1: "33.3", 2: "33.3", 3: "33.4"})
    assert bucket_version(client, 9999) == 3


def test_decimal_three_way_split_hands_over_at_each_boundary(client):
    routed(client, {1: "33.3", 2: "33.3", 3: "33.4"})
    got = [bucket_version(client, b) for b in (3329, 3330, 6659, 6660)]
    assert got == [1, 2, 2, 3]


def test_bucket_zero_is_served_by_the_first_route(client):
    routed(client, {2: 10, 1: 90})
    assert bucket_version(client, 0) == 2


def test_same_key_is_always_served_by_the_same_version(client):
    routed(client, {1: 50, 2: 50})
    versions = {served_version(client, "churn", "customer-77") for _ in range(5)}
    assert len(versions) == 1


def test_many_keys_split_close_to_the_configured_share(client):
    routed(client, {1: 50, 2: 50})
    versions = [served_version(client, "churn", f"user-{n}") for n in range(40)]
    assert 12 <= versions.count(2) <= 28


def test_request_key_header_routes_like_the_body_key(client):
    routed(client, {1: 90, 2: 10})
    response = client.post(
        "/api/v1/models/churn/predict",
        json={"instances": ROWS[:1]},
        headers={"X-Request-Key": BUCKET_KEYS[9900]},
    )
    assert response.json()["version"] == 2


def test_body_key_wins_over_the_header(client):
    routed(client, {1: 90, 2: 10})
    response = client.post(
        "/api/v1/models/churn/predict",
        json={"instances": ROWS[:1], "key": BUCKET_KEYS[0]},
        headers={"X-Request-Key": BUCKET_KEYS[9900]},
    )
    assert response.json()["version"] == 1


def test_keyless_requests_reach_every_routed_version(client):
    routed(client, {1: 50, 2: 50})
    assert {served_version(client, "churn", None) for _ in range(6)} == {1, 2}


def test_routing_table_reads_back_as_configured(client):
    routed(client, {1: "87.5", 2: "12.5"}, shadow=3)
    body = client.get(ROUTING).json()
    assert body["routes"] == [
        {"version": 1, "percent": "87.50", "buckets": 8750},
        {"version": 2, "percent": "12.50", "buckets": 1250},
    ]
    assert body["shadow"] == 3


def test_model_without_a_split_has_no_routing_table(client):
    response = client.get(ROUTING)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_rollback_serves_every_key_from_the_deployed_version(client):
    routed(client, {1: 50, 2: 50})
    assert client.delete(ROUTING).status_code == 204
    assert {bucket_version(client, b) for b in (0, 5000, 9999)} == {1}


def test_rollback_without_a_split_is_404(client):
    assert client.delete(ROUTING).status_code == 404


def test_promoted_canary_serves_every_key(client):
    routed(client, {1: 90, 2: 10})
    response = client.post(f"{ROUTING}/promote", json={"version": 2})
    assert response.status_code == 200, response.text
    assert [d["version"] for d in response.json()["items"]] == [2]
    assert {bucket_version(client, b) for b in (0, 8999, 9999)} == {2}
    assert client.get(ROUTING).status_code == 404


def test_promoting_a_version_without_routed_traffic_is_409(client):
    routed(client, {1: 90, 2: 10})
    response = client.post(f"{ROUTING}/promote", json={"version": 3})
    assert response.status_code == 409
    assert bucket_version(client, 9000) == 2


def test_promoting_without_a_split_is_404(client):
    assert client.post(f"{ROUTING}/promote", json={"version": 2}).status_code == 404


def test_new_split_replaces_the_old_one_whole(client):
    routed(client, {1: 90, 2: 10})
    routed(client, {1: 50, 3: 50})
    assert (bucket_version(client, 4999), bucket_version(client, 9000)) == (1, 3)


def test_undeploying_drops_the_split(client):
    routed(client, {1: 90, 2: 10})
    assert client.delete("/api/v1/deployments/churn").status_code == 204
    assert client.get(ROUTING).status_code == 404
    response = client.post("/api/v1/models/churn/predict", json={"instances": ROWS[:1]})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("routes", "needle"),
    [
        ({1: 90, 2: 5}, "exactly 100"),
        ({1: "33.333", 2: "66.667"}, "decimal"),
        ({1: 100, 2: 0}, "greater than 0"),
        ({1: 110, 2: -10}, "100"),
        ({1: "ninety", 2: 10}, "decimal"),
        ({1: "NaN", 2: 10}, "finite"),
    ],
    ids=["short-of-100", "three-decimals", "zero", "negative", "not-a-number", "nan-string"],
)
def test_bad_percentages_are_422_with_a_message(client, routes, needle):
    response = split(client, "churn", routes)
    assert response.status_code == 422, response.text
    assert needle in response.text.lower()


def test_repeated_version_is_422(client):
    body = {"routes": [{"version": 1, "percent": 50}, {"version": 1, "percent": 50}]}
    response = client.put(ROUTING, json=body)
    assert response.status_code == 422
    assert "once" in response.json()["detail"]


def test_shadow_that_is_also_routed_is_422(client):
    assert split(client, "churn", {1: 90, 2: 10}, shadow=2).status_code == 422


def test_percentages_adding_up_in_decimal_are_accepted(client):
    body = routed(client, {1: "67.9", 2: "14.18", 3: "17.92"})
    assert [r["buckets"] for r in body["routes"]] == [6790, 1418, 1792]


def test_nan_literal_in_the_routing_body_is_malformed_json(client):
    raw = b'{"routes": [{"version": 1, "percent": NaN}]}'
    response = client.put(ROUTING, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_unknown_version_in_a_split_is_404_and_nothing_changes(client):
    response = split(client, "churn", {1: 90, 9: 10})
    assert response.status_code == 404
    assert client.get(ROUTING).status_code == 404


def test_splitting_a_model_that_is_not_deployed_is_404(client, env):
    env.publish("spend", 1, make_artifact("linear", seed=4))
    assert split(client, "spend", {1: 100}).status_code == 404


def test_too_many_routes_are_422(client):
    routes = {v: "6.25" for v in range(1, 17)} | {17: 0}
    assert split(client, "churn", routes).status_code == 422


def test_overlong_request_key_is_422(client):
    body = {"instances": ROWS[:1], "key": "k" * 257}
    assert client.post("/api/v1/models/churn/predict", json=body).status_code == 422


def test_canary_with_renamed_features_names_them_for_its_keys(client, env):
    plain = make_artifact("linear", seed=5)
    renamed = type(plain)(plain.kind, plain.weights, ["tenure", "spend", "visits"], plain.metadata)
    env.publish("churn", 5, renamed, stage="Staging")
    routed(client, {1: 90, 5: 10})
    body = {"instances": ROWS[:1], "key": BUCKET_KEYS[9999]}
    response = client.post("/api/v1/models/churn/predict", json=body)
    assert response.status_code == 422
    assert response.json()["details"] == {
        "instance": 0,
        "missing": ["visits"],
        "unknown": ["calls"],
    }
    assert served_version(client, "churn", BUCKET_KEYS[0]) == 1


def test_oversized_routing_body_is_413(client):
    body = {"routes": [{"version": 1, "percent": 100}], "note": "x" * (5 * 1024 * 1024)}
    response = client.put(ROUTING, json=body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_promote_with_a_version_that_is_not_a_number_is_422(client):
    routed(client, {1: 90, 2: 10})
    response = client.post(f"{ROUTING}/promote", json={"version": "two"})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_promote_with_malformed_json_is_400(client):
    routed(client, {1: 90, 2: 10})
    response = client.post(
        f"{ROUTING}/promote", content=b'{"version": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_stats_of_a_name_the_registry_cannot_hold_is_422(client):
    assert client.get("/api/v1/deployments/-bad name/stats").status_code == 422
