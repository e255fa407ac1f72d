"""What keeps `make fuzz` honest: request schemas state the NUL rule; no check is disabled."""

from __future__ import annotations

import tomllib

from devstack import fuzz
from services.django_project.storable import NUL_FREE, STORABLE_REF, declare_storable_bodies

REF = "#/components/schemas/"


def _document() -> dict:
    return {
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": REF + "New"}}}
                    }
                },
                "get": {"responses": {"200": {"description": "x"}}},
                "parameters": [],
            },
        },
        "components": {
            "schemas": {
                "New": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "uri": {"type": "string", "pattern": "^[a-z]+$"},
                        "stage": {"type": "string", "enum": ["a", "b"]},
                        "params": {"type": "object", "additionalProperties": True},
                        "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
                        "schema": {"oneOf": [{"$ref": REF + "Inner"}, {"type": "null"}]},
                    },
                },
                "Inner": {
                    "type": "object",
                    "properties": {"features": {"type": "array", "items": {"type": "string"}}},
                },
                "Shown": {"type": "object", "properties": {"name": {"type": "string"}}},
            }
        },
    }


def test_every_schema_a_request_body_reaches_refuses_nul():
    schemas = declare_storable_bodies(_document())["components"]["schemas"]
    new = schemas["New"]
    assert new["propertyNames"] == {"pattern": NUL_FREE}
    assert new["additionalProperties"] == STORABLE_REF
    assert new["properties"]["name"]["pattern"] == NUL_FREE
    assert new["properties"]["params"]["additionalProperties"] == STORABLE_REF
    assert new["properties"]["metrics"]["additionalProperties"] == {"type": "number"}
    assert schemas["Inner"]["properties"]["features"]["items"]["pattern"] == NUL_FREE
    assert "StorableJSON" in schemas


def test_patterns_enums_and_response_schemas_are_left_alone():
    schemas = declare_storable_bodies(_document())["components"]["schemas"]
    assert schemas["New"]["properties"]["uri"]["pattern"] == "^[a-z]+$"
    assert "pattern" not in schemas["New"]["properties"]["stage"]
    assert schemas["Shown"] == {"type": "object", "properties": {"name": {"type": "string"}}}


def test_fuzz_config_only_widens_expected_statuses_never_disables_a_check():
    config = tomllib.loads(fuzz.CONFIG.read_text())
    for operation in config["operations"]:
        for name, setting in operation.get("checks", {}).items():
            if isinstance(setting, dict):
                assert setting.get("enabled", True), name
                assert name == "positive_data_acceptance", name
                assert "422" in setting["expected-statuses"]
