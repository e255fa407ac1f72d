"""Reward arithmetic: thresholds, weights, bonuses, penalty, clamping and dense modes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from environment.reward import base_reward, compute_reward, smooth_reward
from environment.tests.factories import batch, result


@pytest.mark.parametrize(
    ("passed", "total", "base"),
    [
        (0, 10, 0.0),
        (999, 10000, 0.0),
        (10, 100, 0.05),
        (2499, 10000, 0.05),
        (25, 100, 0.12),
        (40, 100, 0.22),
        (55, 100, 0.38),
        (70, 100, 0.55),
        (8499, 10000, 0.55),
        (85, 100, 0.78),
        (95, 100, 0.78),
        (9999, 10000, 0.78),
        (100, 100, 1.0),
    ],
)
def test_base_reward_steps_at_each_threshold(passed, total, base):
    assert compute_reward(batch(passed, total - passed))["base"] == base


def test_base_reward_uses_exact_fractions_at_boundaries():
    assert base_reward(Fraction(85, 100)) == Fraction(78, 100)
    assert base_reward(Fraction(1, 10)) == Fraction(5, 100)
    assert base_reward(Fraction(1, 10) - Fraction(1, 10**9)) == 0


def test_exactly_85_percent_from_mixed_weights_reaches_078():
    # Weighted: (3 * 3 + 2 * 2.5 + 3.0) / (4 * 3 + 2 * 2.5 + 2 * 1.5) = 17 / 20.
    tests = batch(3, 1, "system", "a") + batch(2, 0, "security", "b")
    tests += batch(2, 0, "integration", "c")
    reward = compute_reward(tests)
    assert reward["weighted_pass_rate"] == 0.85
    assert reward["base"] == 0.78


def test_weighted_and_unweighted_rates_are_reported_apart():
    tests = [result("s", "passed", "system", "a"), result("u", "failed", "unit/ml_pipeline", "b")]
    reward = compute_reward(tests)
    assert reward["pass_rate"] == 0.5
    assert reward["weighted_pass_rate"] == 0.75
    assert reward["base"] == 0.55


@pytest.mark.parametrize("outcome", ["failed", "error", "skipped", "xfailed", "missing"])
def test_every_outcome_but_passed_counts_as_failed(outcome):
    reward = compute_reward([result("a"), result("b", outcome, service="other")])
    assert reward["passed"] == 1
    assert reward["weighted_pass_rate"] == 0.5


def test_service_bonus_counts_services_whose_tests_all_pass():
    tests = batch(2, 0, service="auth") + batch(1, 1, "integration", "models")
    tests += batch(1, 0, "security", "search")
    reward = compute_reward(tests)
    assert reward["passing_services"] == ["auth", "search"]
    assert reward["service_bonus"] == 0.04


def test_service_bonus_is_capped_at_030():
    tests = [result(f"t{i}", service=f"svc{i}") for i in range(20)]
    tests.append(result("bad", "failed", "system", "broken"))
    reward = compute_reward(tests)
    assert len(reward["passing_services"]) == 20
    assert reward["service_bonus"] == 0.3


def test_ml_bonus_needs_every_ml_pipeline_test_to_pass():
    ok = batch(3, 0, "unit/ml_pipeline", "training") + batch(0, 1, "system", "gateway")
    assert compute_reward(ok)["ml_bonus"] == 0.1
    broken = batch(2, 1, "unit/ml_pipeline", "training")
    assert compute_reward(broken)["ml_bonus"] == 0.0


def test_ml_bonus_is_not_given_without_ml_pipeline_tests():
    assert compute_reward(batch(1, 0, "system", "gateway"))["ml_bonus"] == 0.0


def test_regression_penalty_when_a_previously_passing_test_fails():
    previous = [result("a"), result("b", "failed", service="x")]
    now = [result("a", "failed"), result("b", service="x")]
    reward = compute_reward(now, previous)
    assert reward["regression_penalty"] == 0.15
    assert reward["regressions"] == ["a"]


def test_regression_penalty_when_a_previously_passing_test_goes_missing():
    reward = compute_reward([result("b", "failed")], [result("a"), result("b", "failed")])
    assert reward["regressions"] == ["a"]


def test_no_penalty_without_previous_results_or_regressions():
    assert compute_reward([result("a", "failed")])["regression_penalty"] == 0.0
    assert compute_reward([result("a")], [result("a", "failed")])["regression_penalty"] == 0.0


def test_reward_is_clamped_to_zero_and_one():
    low = compute_reward([result("a", "failed")], [result("a")])
    assert low["reward"] == 0.0
    high = compute_reward(batch(5, 0, "unit/ml_pipeline", "training"))
    assert high["base"] + high["service_bonus"] + high["ml_bonus"] > 1
    assert high["reward"] == 1.0


def test_reward_sums_its_components():
    tests = batch(9, 1, "unit/model_serving", "inference") + batch(
        2, 0, "unit/ml_pipeline", "training"
    )
    reward = compute_reward(tests)
    assert reward["base"] == 0.78
    assert reward["reward"] == pytest.approx(0.78 + 0.02 + 0.10)


def test_category_contributions_add_up_to_the_weighted_rate():
    tests = batch(3, 1, "system", "a") + batch(1, 1, "security", "b") + batch(2, 2, "contract", "c")
    reward = compute_reward(tests)
    total = sum(row["weighted_contribution"] for row in reward["categories"].values())
    assert total == pytest.approx(reward["weighted_pass_rate"], abs=1e-5)
    assert reward["categories"]["system"] == {
        "tests": 4,
        "passed": 3,
        "weight": 3.0,
        "weighted_contribution": pytest.approx(9 / 25, abs=1e-6),
    }


def test_dense_modes_are_reported_beside_the_reward():
    reward = compute_reward(batch(1, 3))
    assert reward["dense"] == {"linear": 0.25, "sublinear": 0.5, "smooth": 0.12}


def test_smooth_mode_meets_the_base_reward_at_thresholds():
    for rate, base in [(0.1, 0.05), (0.4, 0.22), (0.85, 0.78), (1.0, 1.0), (0.0, 0.0)]:
        assert smooth_reward(rate) == pytest.approx(base)
    assert 0.78 < smooth_reward(0.95) < 1.0


def test_empty_results_give_zero():
    reward = compute_reward([])
    assert reward["reward"] == 0.0
    assert reward["pass_rate"] == 0.0
