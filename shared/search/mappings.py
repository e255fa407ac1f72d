"""The platform's search indices with their explicit, strict mappings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# One primary shard and no replicas: indices are small and the cluster may be a single node.
INDEX_SETTINGS: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}


@dataclass(frozen=True)
class IndexDefinition:
    """An index the platform needs: its name, mapping and settings."""

    name: str
    mappings: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=lambda: dict(INDEX_SETTINGS))


def _fields(**types: str) -> dict[str, dict[str, str]]:
    return {name: {"type": kind} for name, kind in types.items()}


# Model catalogue: names and tags match exactly (keyword), descriptions by words (text).
MODELS_INDEX = IndexDefinition(
    "models",
    {
        "dynamic": "strict",
        "properties": _fields(
            name="keyword",
            description="text",
            tags="keyword",
            task="keyword",
            owner="keyword",
            created_at="date",
            updated_at="date",
        ),
    },
)


def _nested(**types: str) -> dict[str, Any]:
    return {"type": "nested", "properties": _fields(**types)}


# Experiment runs: filtered by experiment, model and status; notes are free text. Params and
# tags are nested {key, value} pairs (value: the exact canonical text), metrics nested {key,
# value: the last logged value, step}, so one filter matches the key and value of one pair.
EXPERIMENTS_INDEX = IndexDefinition(
    "experiments",
    {
        "dynamic": "strict",
        "properties": {
            **_fields(
                run_id="keyword",
                experiment="keyword",
                model_name="keyword",
                status="keyword",
                notes="text",
                score="double",
                epochs="long",
                started_at="date",
                finished_at="date",
            ),
            "params": _nested(key="keyword", value="keyword"),
            "tags": _nested(key="keyword", value="keyword"),
            "metrics": _nested(key="keyword", value="double", step="long"),
        },
    },
)

# Registered model versions, indexed by the registry after each registration or stage change.
MODEL_VERSIONS_INDEX = IndexDefinition(
    "model-versions",
    {
        "dynamic": "strict",
        "properties": _fields(
            name="keyword",
            version="long",
            stage="keyword",
            run_id="keyword",
            artifact_uri="keyword",
            summary="text",
            created_at="date",
            updated_at="date",
        ),
    },
)

PLATFORM_INDICES: dict[str, IndexDefinition] = {
    definition.name: definition
    for definition in (MODELS_INDEX, EXPERIMENTS_INDEX, MODEL_VERSIONS_INDEX)
}
