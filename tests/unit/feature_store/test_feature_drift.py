"""Drift: how far each feature moved, and one alert per group of features that move together."""

from __future__ import annotations

import random

import pytest

from shared.errors import ValidationError
from shared.ml.feature_utils import correlated_groups, drift_report, ks_statistic, psi

pytestmark = pytest.mark.features


def sample(seed: int, n: int = 200, shift: float = 0.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0.0, 1.0) + shift for _ in range(n)]


def test_identical_windows_have_no_drift() -> None:
    values = sample(1)
    assert psi(values, values) == pytest.approx(0.0, abs=1e-9)
    assert ks_statistic(values, values) == 0.0


def test_a_shifted_window_has_a_large_psi_and_ks() -> None:
    assert psi(sample(1), sample(2, shift=2.0)) > 1.0
    assert ks_statistic(sample(1), sample(2, shift=2.0)) > 0.5


def test_two_draws_of_one_distribution_do_not_drift() -> None:
    report = drift_report({"x": sample(1)}, {"x": sample(2)})
    assert report["features"]["x"]["drifted"] is False
    assert report["alerts"] == []


def test_ks_of_disjoint_samples_is_one() -> None:
    assert ks_statistic([1.0, 2.0], [3.0, 4.0]) == 1.0


@pytest.mark.parametrize("empty", [([], [1.0]), ([1.0], [])])
def test_drift_needs_values_in_both_windows(empty: tuple[list[float], list[float]]) -> None:
    with pytest.raises(ValidationError):
        psi(*empty)
    with pytest.raises(ValidationError):
        ks_statistic(*empty)


@pytest.mark.parametrize("factor", [-1.0, -0.5, -3.0, -100.0, -0.01])
def test_a_feature_and_its_negated_copy_move_together(factor: float) -> None:
    base = sample(3, n=50)
    groups = correlated_groups({"balance": base, "debt": [factor * v for v in base]})
    assert groups == [["balance", "debt"]]


@pytest.mark.parametrize("factor", [1.0, 2.0, 0.1])
def test_a_scaled_copy_is_grouped_with_its_feature(factor: float) -> None:
    base = sample(4, n=50)
    assert correlated_groups({"a": base, "b": [factor * v for v in base]}) == [["a", "b"]]


def test_unrelated_features_stay_apart() -> None:
    assert correlated_groups({"a": sample(5, n=50), "b": sample(6, n=50)}) == [["a"], ["b"]]


def test_features_that_each_follow_a_third_move_together() -> None:
    base = sample(7, n=50)
    columns = {
        "a": base,
        "b": [-v for v in base],
        "c": [2 * v + 1 for v in base],
        "d": sample(8, n=50),
    }
    assert correlated_groups(columns) == [["a", "b", "c"], ["d"]]


@pytest.mark.parametrize("copies", [2, 3, 5])
def test_drifting_mirrored_copies_raise_one_alert(copies: int) -> None:
    base, moved = sample(9), sample(10, shift=2.5)
    reference = {f"f{i}": [(-1) ** i * v for v in base] for i in range(copies)}
    current = {f"f{i}": [(-1) ** i * v for v in moved] for i in range(copies)}
    report = drift_report(reference, current)
    assert all(f["drifted"] for f in report["features"].values())
    assert [a["features"] for a in report["alerts"]] == [sorted(reference)]


def test_independent_drifts_raise_separate_alerts() -> None:
    reference = {"a": sample(11), "b": sample(12)}
    current = {"a": sample(13, shift=3.0), "b": sample(14, shift=3.0)}
    assert [a["features"] for a in drift_report(reference, current)["alerts"]] == [["a"], ["b"]]


def test_a_quiet_feature_in_a_drifting_group_is_reported_quiet() -> None:
    base = sample(15)
    reference = {"a": base, "b": [-v for v in base], "c": sample(16)}
    current = {
        "a": sample(17, shift=3.0),
        "b": [-v for v in sample(17, shift=3.0)],
        "c": sample(18),
    }
    report = drift_report(reference, current)
    assert report["features"]["c"]["drifted"] is False
    assert [a["features"] for a in report["alerts"]] == [["a", "b"]]
