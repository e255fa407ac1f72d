"""Signed download links open exactly one object until exactly their expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.storage.presign import SignatureError, check_signature, signature

pytestmark = pytest.mark.storage

SECRET = "unit-test-presign-secret"
EXPIRES = int(datetime(2024, 11, 3, 6, 0, tzinfo=UTC).timestamp())
BEFORE = datetime(2024, 11, 3, 5, 59, 59, tzinfo=UTC)


def test_a_link_for_one_namespaces_object_never_opens_another():
    given = signature(SECRET, "checkpoints", "churn/job/step-10.ckpt", EXPIRES)
    check_signature(SECRET, "checkpoints", "churn/job/step-10.ckpt", EXPIRES, given, BEFORE)
    with pytest.raises(SignatureError):
        check_signature(SECRET, "artifacts", "churn/job/step-10.ckpt", EXPIRES, given, BEFORE)


def test_a_link_stops_opening_its_object_once_it_expires():
    given = signature(SECRET, "artifacts", "churn/1/model.npz", EXPIRES)
    at_expiry = datetime.fromtimestamp(EXPIRES, UTC)
    with pytest.raises(SignatureError, match="expired"):
        check_signature(SECRET, "artifacts", "churn/1/model.npz", EXPIRES, given, at_expiry)
