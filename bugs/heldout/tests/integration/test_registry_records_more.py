"""Held-out: registry records over HTTP for models whose row ids differ from their versions."""

from __future__ import annotations

import pytest

from tests.utils.registry import REGISTRY_DB, create_version, version_payload, versions_url

pytestmark = [pytest.mark.registry, REGISTRY_DB]


def test_parent_of_a_fourth_version_is_named_by_its_version_number(registry_client):
    for name in ("fraud", "churn", "ranker", "fraud", "ranker", "churn", "ranker"):
        create_version(name)
    response = registry_client.post(versions_url("ranker"), json=version_payload(parent_version=3))
    assert response.status_code == 201, response.text
    record = registry_client.get(versions_url("ranker", 4)).json()
    assert (record["version"], record["parent_version"]) == (4, 3)
    lineage = registry_client.get(versions_url("ranker", 4, "lineage")).json()
    assert [(row["name"], row["version"]) for row in lineage["ancestors"]] == [("ranker", 3)]


def test_promoting_the_fifth_version_reports_the_third_as_archived(registry_client):
    for stage in ("Archived", "Archived", "Production", None, "Staging"):
        create_version("ltv", stage=stage)
    response = registry_client.post(
        versions_url("ltv", 5, "transition"), json={"stage": "Production"}
    )
    assert response.status_code == 200
    assert response.json()["archived_versions"] == [3]
    listed = registry_client.get(versions_url("ltv")).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert {item["version"]: item["stage"] for item in items} == {
        1: "Archived",
        2: "Archived",
        3: "Archived",
        4: "None",
        5: "Production",
    }
