"""Held-out variants: a push and a second view's writes while one view is materialised."""

from __future__ import annotations

import pytest

from services.features.models import FeatureRow
from shared.backends import use_backend
from tests.utils.features import FEATURES_DB, InterruptedCache, ago, feature, row

pytestmark = [pytest.mark.features, FEATURES_DB]

GEO = [feature("lat", "decimal"), feature("pings", "int64")]


def test_a_push_refused_mid_materialisation_stores_no_offline_row(features_api):
    features_api.view("geo", GEO)
    features_api.backfill("geo", [row("g1", ago(4), lat=1, pings=1)])
    answers = []
    late = {"rows": [row("g9", ago(1), lat=2, pings=2)]}
    cache = InterruptedCache(lambda: answers.append(features_api.post("/api/v1/online/geo", late)))
    with use_backend("cache", cache):
        features_api.materialize("geo")
    assert [a.status_code for a in answers] == [409]
    assert not FeatureRow.objects.filter(entity_key="g9").exists()


def test_another_view_can_be_backfilled_mid_materialisation(features_api):
    features_api.view("geo", GEO)
    features_api.view("geo2", GEO)
    features_api.backfill("geo", [row("g1", ago(4), lat=1, pings=1)])
    other = {"rows": [row("g2", ago(1), lat=2, pings=2)]}
    same = {"rows": [row("g3", ago(1), lat=2, pings=2)]}
    answers = []

    def both():
        answers.append(features_api.post("/api/v1/feature-views/geo2/rows", other))
        answers.append(features_api.post("/api/v1/feature-views/geo/rows", same))

    with use_backend("cache", InterruptedCache(both)):
        features_api.materialize("geo")
    assert [a.status_code for a in answers] == [201, 409]
    assert sorted(FeatureRow.objects.values_list("entity_key", flat=True)) == ["g1", "g2"]
