"""Prediction input is validated against the deployed model's input schema."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shared.errors import ValidationError
from shared.ml.feature_utils import records_to_matrix
from tests.utils.inference import FEATURES, ROWS, make_artifact, make_env, running

pytestmark = pytest.mark.inference

PREDICT = "/api/v1/models/churn/predict"
GOOD = {"tenure": 3.0, "spend": 10.0, "calls": 1.0}


@pytest.fixture
def client(tmp_path):
    env = make_env(tmp_path, max_batch_size=5)
    env.publish("churn", 1, make_artifact(seed=1))
    with running(env) as client:
        assert client.post("/api/v1/deployments/churn", json={"version": 1}).status_code == 200
        yield client


def post_rows(client, rows):
    return client.post(PREDICT, json={"instances": rows})


def post_raw(client, text):
    return client.post(PREDICT, content=text.encode(), headers={"content-type": "application/json"})


def test_missing_feature_is_422_naming_it(client):
    response = post_rows(client, [GOOD, {"tenure": 1.0, "spend": 2.0}])
    assert response.status_code == 422
    assert response.json()["details"] == {"instance": 1, "missing": ["calls"], "unknown": []}


def test_extra_feature_is_422_naming_it(client):
    response = post_rows(client, [{**GOOD, "region": 4.0}])
    assert response.status_code == 422
    assert response.json()["details"]["unknown"] == ["region"]


def test_string_value_is_422(client):
    response = post_rows(client, [{**GOOD, "spend": "12.5"}])
    assert response.status_code == 422
    assert response.json()["details"]["non_numeric"] == ["spend"]


def test_boolean_value_is_422(client):
    response = post_rows(client, [{**GOOD, "calls": True}])
    assert response.status_code == 422
    assert response.json()["details"]["non_numeric"] == ["calls"]


def test_null_value_is_422(client):
    response = post_rows(client, [{**GOOD, "tenure": None}])
    assert response.status_code == 422
    assert response.json()["details"]["non_numeric"] == ["tenure"]


def test_nan_value_is_malformed_json(client):
    response = post_raw(client, '{"instances": [{"tenure": NaN, "spend": 1, "calls": 2}]}')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_infinite_value_is_malformed_json(client):
    response = post_raw(client, '{"instances": [{"tenure": 1, "spend": -Infinity, "calls": 2}]}')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_integer_too_large_for_a_float_is_422(client):
    body = json.dumps({"instances": [{**GOOD, "calls": 10**400}]})
    response = post_raw(client, body)
    assert response.status_code == 422


def test_empty_instance_list_is_422(client):
    assert post_rows(client, []).status_code == 422


def test_more_instances_than_the_batch_limit_is_422(client):
    response = post_rows(client, [GOOD] * 6)
    assert response.status_code == 422
    assert post_rows(client, [GOOD] * 5).status_code == 200


def test_instance_that_is_not_an_object_is_422(client):
    assert post_rows(client, [[1.0, 2.0, 3.0]]).status_code == 422


def test_integers_are_accepted_as_numbers(client):
    response = post_rows(client, [{"tenure": 3, "spend": 10, "calls": 1}])
    assert response.status_code == 200


def test_matrix_columns_follow_the_schema_not_the_request_order():
    rows = [{"calls": 3.0, "tenure": 1.0, "spend": 2.0}]
    X = records_to_matrix(rows, FEATURES, max_rows=10)
    assert X.dtype == np.float32
    assert X.tolist() == [[1.0, 2.0, 3.0]]


def test_matrix_has_one_row_per_instance():
    assert records_to_matrix(ROWS, FEATURES, max_rows=10).shape == (3, 3)


def test_first_invalid_instance_is_reported():
    with pytest.raises(ValidationError) as err:
        records_to_matrix([ROWS[0], {"tenure": 1.0}, {}], FEATURES, max_rows=10)
    assert err.value.details["instance"] == 1
