"""Models service against its database: pagination, filters, updates, deletes, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from tests.utils.models import EPOCH, MODELS_URL, make_models_env, model_payload

pytestmark = pytest.mark.models


@pytest.fixture
def env():
    env = make_models_env()
    yield env
    env.client.close()


def names(body: dict) -> list[str]:
    return [item["name"] for item in body["items"]]


def seed(env, count: int, **overrides) -> list[str]:
    created = [f"model-{i:02d}" for i in range(count)]
    for name in created:
        env.create(name=name, **overrides)
    return created


def test_pages_cover_every_model_exactly_once(env):
    created = seed(env, 7)
    seen = []
    for offset in range(0, 8, 3):
        seen += names(env.client.get(MODELS_URL, params={"limit": 3, "offset": offset}).json())
    assert seen == created


def test_total_counts_all_matches_not_just_the_page(env):
    seed(env, 5)
    body = env.client.get(MODELS_URL, params={"limit": 2}).json()
    assert len(body["items"]) == 2
    assert body["total"] == 5


def test_total_is_kept_when_offset_passes_the_end(env):
    seed(env, 3)
    body = env.client.get(MODELS_URL, params={"limit": 5, "offset": 10}).json()
    assert (body["items"], body["total"], body["offset"]) == ([], 3, 10)


def test_total_counts_filtered_matches_across_pages(env):
    seed(env, 4, owner="bob")
    env.create(name="alice-model", owner="alice")
    body = env.client.get(MODELS_URL, params={"owner": "bob", "limit": 1, "offset": 1}).json()
    assert names(body) == ["model-01"]
    assert body["total"] == 4


def test_list_is_ordered_by_creation_time_then_id(env):
    later, earlier = EPOCH + timedelta(hours=2), EPOCH + timedelta(hours=1)
    env.clock.pending[:] = [later, earlier, earlier, later]
    for name in ("first-in", "second-in", "third-in", "fourth-in"):
        env.create(name=name)
    body = env.client.get(MODELS_URL).json()
    assert names(body) == ["second-in", "third-in", "first-in", "fourth-in"]


def test_filters_by_owner_task_and_tag_combine(env):
    env.create(name="a-cls", owner="ana", task="classification", tags=["eu"])
    env.create(name="a-reg", owner="ana", task="regression", tags=["eu"])
    env.create(name="b-cls", owner="ben", task="classification", tags=["eu"])
    env.create(name="a-cls-us", owner="ana", task="classification", tags=["us"])
    params = {"owner": "ana", "task": "classification", "tag": "EU"}
    body = env.client.get(MODELS_URL, params=params).json()
    assert (names(body), body["total"]) == (["a-cls"], 1)


def test_tag_filter_lists_each_model_once(env):
    env.create(name="tagged", tags=["eu", "prod", "batch"])
    body = env.client.get(MODELS_URL, params={"tag": "prod"}).json()
    assert (names(body), body["total"]) == (["tagged"], 1)


def test_patch_changes_only_the_fields_sent(env):
    env.create(description="old", owner="alice")
    response = env.client.patch(f"{MODELS_URL}/churn-classifier", json={"owner": "  carol "})
    body = response.json()
    assert response.status_code == 200
    assert (body["owner"], body["description"]) == ("carol", "old")
    assert body["tags"] == ["churn", "production"]


def test_patch_moves_updated_at_and_keeps_created_at(env):
    created = env.create()
    body = env.client.patch(f"{MODELS_URL}/churn-classifier", json={"task": "regression"}).json()
    assert body["created_at"] == created["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) == EPOCH + timedelta(minutes=1)


def test_patch_replaces_tags_that_overlap_the_old_ones(env):
    env.create(tags=["eu", "prod"])
    body = env.client.patch(f"{MODELS_URL}/churn-classifier", json={"tags": ["prod", "beta"]})
    assert body.json()["tags"] == ["prod", "beta"]
    listed = env.client.get(MODELS_URL, params={"tag": "eu"}).json()
    assert listed["total"] == 0


def test_patch_with_null_description_clears_it(env):
    env.create()
    body = env.client.patch(f"{MODELS_URL}/churn-classifier", json={"description": None}).json()
    assert body["description"] is None


@pytest.mark.parametrize("field", ["owner", "task", "tags", "input_schema"])
def test_patch_refuses_null_for_required_fields(env, field):
    env.create()
    response = env.client.patch(f"{MODELS_URL}/churn-classifier", json={field: None})
    assert response.status_code == 422
    assert env.client.get(f"{MODELS_URL}/churn-classifier").json()[field] is not None


def test_patch_validates_new_input_schema(env):
    env.create()
    bad = {"input_schema": {"features": ["x", "x"]}}
    assert env.client.patch(f"{MODELS_URL}/churn-classifier", json=bad).status_code == 422


def test_recreated_model_does_not_inherit_deleted_tags(env):
    env.create(tags=["legacy"])
    env.client.delete(f"{MODELS_URL}/churn-classifier")
    body = env.create(tags=["fresh"])
    assert body["tags"] == ["fresh"]
    assert env.client.get(MODELS_URL, params={"tag": "legacy"}).json()["total"] == 0


def test_times_from_a_local_clock_are_stored_as_utc(env):
    local = datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    env.clock.pending[:] = [local]
    body = env.create()
    assert body["created_at"] == "2024-11-03T05:30:00Z"
    fetched = env.client.get(f"{MODELS_URL}/churn-classifier").json()
    assert datetime.fromisoformat(fetched["created_at"]) == local.astimezone(UTC)


def insert_competing_row_before_first_model_insert(env):
    """Make another writer take the same name just before the app's own INSERT runs."""
    state = {"fired": False}

    def _race(conn, cursor, statement, parameters, context, executemany):
        if not state["fired"] and statement.startswith("INSERT INTO model_metadata"):
            state["fired"] = True
            conn.connection.driver_connection.execute(statement, parameters).close()

    event.listen(env.engine, "before_cursor_execute", _race)
    return state


def test_name_taken_by_a_concurrent_writer_returns_409(env):
    state = insert_competing_row_before_first_model_insert(env)
    response = env.client.post(MODELS_URL, json=model_payload(name="racy-model"))
    assert state["fired"]
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


def test_service_keeps_working_after_a_concurrent_conflict(env):
    insert_competing_row_before_first_model_insert(env)
    env.client.post(MODELS_URL, json=model_payload(name="racy-model"))
    assert env.client.post(MODELS_URL, json=model_payload(name="next-model")).status_code == 201
    assert env.client.get(MODELS_URL).json()["total"] == 1
