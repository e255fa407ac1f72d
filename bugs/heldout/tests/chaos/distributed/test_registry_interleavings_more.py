"""Held-out: registry writers interleaving on other models, version counts and stages."""

from __future__ import annotations

import pytest

from services.registry import services
from services.registry.models import ModelVersion, StageTransition
from shared.errors import ConflictError
from tests.utils.registry import REGISTRY_DB, create_version

pytestmark = [pytest.mark.registry, REGISTRY_DB]


def competitor_runs_at_the_lock(monkeypatch, competitor) -> None:
    real_lock = services._lock_model
    pending = [competitor]

    def lock(name, **kwargs):
        if pending:
            pending.pop()()
        return real_lock(name, **kwargs)

    monkeypatch.setattr(services, "_lock_model", lock)


def stages(name: str) -> dict[int, str]:
    return dict(ModelVersion.objects.filter(model__name=name).values_list("version", "stage"))


def failing_save_of(monkeypatch, pk: int) -> None:
    real_save = ModelVersion.save

    def save(self, *args, **kwargs):
        if self.pk == pk:
            raise RuntimeError("connection reset")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(ModelVersion, "save", save)


def test_fifth_registration_waiting_behind_a_competitor_gets_version_six(monkeypatch):
    for _ in range(4):
        create_version("ranker")
    competitor_runs_at_the_lock(
        monkeypatch,
        lambda: services.register_version("ranker", services.NewVersion(artifact_uri="s3://r/5")),
    )
    mine = services.register_version("ranker", services.NewVersion(artifact_uri="s3://r/6"))
    assert mine.version == 6
    uris = dict(
        ModelVersion.objects.filter(model__name="ranker").values_list("version", "artifact_uri")
    )
    assert (uris[5], uris[6]) == ("s3://r/5", "s3://r/6")


def test_third_version_failing_its_promotion_leaves_the_first_in_production(monkeypatch):
    create_version("ranker", stage="Production")
    create_version("ranker", stage="Archived")
    promoted = create_version("ranker", stage="Staging")
    audit_rows = StageTransition.objects.count()
    failing_save_of(monkeypatch, promoted.pk)
    with pytest.raises(RuntimeError):
        services.transition_version("ranker", 3, "Production")
    assert stages("ranker") == {1: "Production", 2: "Archived", 3: "Staging"}
    assert StageTransition.objects.count() == audit_rows


def test_staging_a_version_whose_save_fails_records_no_transition(monkeypatch):
    create_version("ranker")
    second = create_version("ranker")
    audit_rows = StageTransition.objects.count()
    failing_save_of(monkeypatch, second.pk)
    with pytest.raises(RuntimeError):
        services.transition_version("ranker", 2, "Staging")
    assert StageTransition.objects.count() == audit_rows
    assert stages("ranker") == {1: "None", 2: "None"}
    with pytest.raises(ConflictError):
        services.transition_version("ranker", 2, "Production")
