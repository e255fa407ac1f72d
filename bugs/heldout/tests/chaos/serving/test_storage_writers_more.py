"""Held-out: the later-opened writer of one key finishing first."""

from __future__ import annotations

import pytest

from tests.utils.storage import blob, make_storage_env, sha256

pytestmark = pytest.mark.storage


def test_writer_that_opened_first_but_finishes_last_leaves_its_own_artifact():
    env = make_storage_env()
    key = "fraud/job-9/model.npz"
    early, late = blob(4096, seed=90), blob(5000, seed=91)
    a = env.open_session("artifacts", key)
    b = env.open_session("artifacts", key)
    assert env.put_part(b, 1, late).status_code == 200
    assert env.complete(b, 1, sha256(late)).status_code == 201
    assert env.put_part(a, 1, early).status_code == 200
    assert env.complete(a, 1, sha256(early)).status_code == 201
    assert env.get("artifacts", key).content == early
