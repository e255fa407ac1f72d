"""Registry invariants when writers interleave: distinct versions, one Production, clean audit.

A concurrent writer is simulated deterministically: while one request is in flight, a
competing request for the same model runs to completion and commits, as it can on PostgreSQL,
and the first request then carries on.
"""

from __future__ import annotations

import pytest

from services.registry import services
from services.registry.models import ModelVersion, StageTransition
from shared.errors import ConflictError
from tests.utils.registry import (
    REGISTRY_DB,
    create_version,
    version_payload,
    versions_url,
)

pytestmark = [pytest.mark.registry, REGISTRY_DB]


def let_competitor_commit_first(monkeypatch, competitor):
    """Make the next registry write on a model let `competitor` run and commit before it."""
    real_lock = services._lock_model
    pending = [competitor]

    def lock_after_competitor(name, **kwargs):
        if pending:
            pending.pop()()
        return real_lock(name, **kwargs)

    monkeypatch.setattr(services, "_lock_model", lock_after_competitor)


def new_version(uri: str = "file:///artifacts/a.npz") -> services.NewVersion:
    return services.NewVersion(artifact_uri=uri)


def stages(name: str) -> dict[int, str]:
    return dict(ModelVersion.objects.filter(model__name=name).values_list("version", "stage"))


def test_a_registration_overtaken_by_another_gets_the_next_version(monkeypatch):
    create_version("churn")
    competitor = lambda: services.register_version("churn", new_version("file:///b.npz"))  # noqa: E731
    let_competitor_commit_first(monkeypatch, competitor)
    mine = services.register_version("churn", new_version("file:///c.npz"))
    assert mine.version == 3
    uris = dict(ModelVersion.objects.values_list("version", "artifact_uri"))
    assert uris == {1: version_payload()["artifact_uri"], 2: "file:///b.npz", 3: "file:///c.npz"}


def test_concurrent_first_registrations_of_a_new_model_get_distinct_versions(monkeypatch):
    competitor = lambda: services.register_version("fresh", new_version())  # noqa: E731
    let_competitor_commit_first(monkeypatch, competitor)
    mine = services.register_version("fresh", new_version())
    assert mine.version == 2
    assert sorted(stages("fresh")) == [1, 2]


def test_version_number_collision_is_a_409_and_keeps_one_row(monkeypatch, registry_client):
    create_version("churn")
    monkeypatch.setattr(services, "_next_version_number", lambda name: 1)
    response = registry_client.post(versions_url("churn"), json=version_payload())
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert ModelVersion.objects.filter(model__name="churn").count() == 1


def test_registry_keeps_working_after_a_version_collision(monkeypatch):
    create_version("churn")
    with monkeypatch.context() as patch:
        patch.setattr(services, "_next_version_number", lambda name: 1)
        with pytest.raises(ConflictError):
            services.register_version("churn", new_version())
    assert services.register_version("churn", new_version()).version == 2


def test_concurrent_promotions_leave_exactly_one_production(monkeypatch):
    create_version("churn", stage="Staging")
    create_version("churn", stage="Staging")
    competitor = lambda: services.transition_version("churn", 1, "Production")  # noqa: E731
    let_competitor_commit_first(monkeypatch, competitor)
    services.transition_version("churn", 2, "Production")
    assert stages("churn") == {1: "Archived", 2: "Production"}


def test_rejected_promotion_leaves_the_current_production_in_place():
    create_version("churn", stage="Production")
    create_version("churn")
    with pytest.raises(ConflictError):
        services.transition_version("churn", 2, "Production")
    assert stages("churn") == {1: "Production", 2: "None"}


def test_promotion_failing_after_the_archive_step_keeps_the_previous_production(monkeypatch):
    create_version("churn", stage="Production")
    promoted = create_version("churn", stage="Staging")
    audit_rows = StageTransition.objects.count()
    fail_for_version_pk(monkeypatch, promoted.pk)
    with pytest.raises(RuntimeError):
        services.transition_version("churn", 2, "Production")
    assert stages("churn") == {1: "Production", 2: "Staging"}
    assert StageTransition.objects.count() == audit_rows


def test_transition_failing_to_save_leaves_no_audit_row(monkeypatch):
    version = create_version("churn", stage="Staging")
    audit_rows = StageTransition.objects.count()
    fail_for_version_pk(monkeypatch, version.pk)
    with pytest.raises(RuntimeError):
        services.transition_version("churn", 1, "Archived")
    assert StageTransition.objects.count() == audit_rows
    assert stages("churn") == {1: "Staging"}


def test_rejected_transition_writes_no_audit_row(registry_client):
    create_version("churn")
    response = registry_client.post(
        versions_url("churn", 1, "transition"), json={"stage": "Archived"}
    )
    assert response.status_code == 409
    assert StageTransition.objects.count() == 0


def fail_for_version_pk(monkeypatch, pk: int) -> None:
    """Make saving the row with primary key `pk` raise, as a lost connection would."""
    real_save = ModelVersion.save

    def save(self, *args, **kwargs):
        if self.pk == pk:
            raise RuntimeError("connection lost")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(ModelVersion, "save", save)
