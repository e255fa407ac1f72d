"""Index bootstrap on an index made by an older release: new fields are mapped in place."""

from __future__ import annotations

import pytest

from shared.search.bootstrap import IndexBootstrapError, ensure_indices
from shared.search.mappings import EXPERIMENTS_INDEX
from shared.search.memory import InMemorySearchIndex

pytestmark = pytest.mark.experiments


def older(definition, *dropped: str) -> dict:
    """Return a definition's mapping without some fields (what an older release created)."""
    kept = {k: v for k, v in definition.mappings["properties"].items() if k not in dropped}
    return {**definition.mappings, "properties": kept}


def test_an_index_lacking_only_new_fields_gains_them_and_one_differing_otherwise_is_left_alone():
    search = InMemorySearchIndex()
    search.create_index("experiments", older(EXPERIMENTS_INDEX, "params", "tags", "metrics"))
    search.index("experiments", "r1", {"run_id": "r1", "status": "finished"})
    assert "experiments" not in ensure_indices(search)
    assert search.get_mapping("experiments") == EXPERIMENTS_INDEX.mappings
    pair = {"nested": {"path": "tags", "query": {"term": {"tags.key": "team"}}}}
    search.index("experiments", "r2", {"run_id": "r2", "tags": [{"key": "team", "value": "a"}]})
    assert search.search("experiments", pair).ids == ["r2"]

    stale = InMemorySearchIndex()
    mapping = older(EXPERIMENTS_INDEX, "tags")
    mapping["properties"]["status"] = {"type": "text"}
    stale.create_index("experiments", mapping)
    with pytest.raises(IndexBootstrapError) as info:
        ensure_indices(stale)
    assert info.value.details["problems"] == [
        "field 'status' is 'text', not 'keyword'",
        "field 'tags' is not mapped",
    ]
    assert "tags" not in stale.get_mapping("experiments")["properties"]
