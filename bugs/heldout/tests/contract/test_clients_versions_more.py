"""Held-out: the registry client's version lookups for other names and versions."""

from __future__ import annotations

import pytest

from tests.utils.inference import FakeRegistry

pytestmark = pytest.mark.inference


def test_version_record_of_a_hyphenated_model_comes_back_whole():
    registry = FakeRegistry()
    registry.add("fraud-score", 17, "fraud-score/v17/model.npz", input_schema={"features": ["x"]})
    record = registry.client().get_version("fraud-score", 17)
    assert (record["name"], record["version"]) == ("fraud-score", 17)
    assert record["input_schema"] == {"features": ["x"]}
    assert registry.requests == ["/api/v1/registered-models/fraud-score/versions/17"]
