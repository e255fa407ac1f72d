"""An object key has one live version at a time, and completion names every missing part."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.storage.config import Settings
from tests.utils.storage import blob, make_storage_env, sha256

pytestmark = pytest.mark.storage

PART = 20 * 1024
OBJECT = "/api/v1/objects/artifacts/churn/3/model.npz"


@pytest.fixture
def env():
    return make_storage_env()


def test_deleting_a_replaced_object_leaves_no_version_of_it(env):
    env.put("artifacts", "churn/3/model.npz", b"first")
    env.put("artifacts", "churn/3/model.npz", b"second")
    assert env.get("artifacts", "churn/3/model.npz").content == b"second"
    assert env.client.delete(OBJECT).status_code == 204
    assert env.get("artifacts", "churn/3/model.npz").status_code == 404
    listing = env.client.get("/api/v1/objects/artifacts", params={"prefix": "churn/3/"}).json()
    assert listing["items"] == []


def test_completing_without_the_first_part_is_a_conflict_naming_it(env):
    data = blob(3 * PART, seed=8)
    session = env.open_session("artifacts", "churn/4/model.npz")
    for number in (2, 3):
        assert env.put_part(session, number, data[(number - 1) * PART : number * PART]).is_success
    response = env.complete(session, 3, sha256(data))
    assert response.status_code == 409
    assert response.json()["details"]["missing"] == [1]
    assert env.get("artifacts", "churn/4/model.npz").status_code == 404


def test_a_sixteen_character_presign_secret_is_enough_and_fifteen_is_not():
    assert Settings(presign_secret="s" * 16).presign_secret == "s" * 16
    with pytest.raises(ValidationError):
        Settings(presign_secret="s" * 15)
