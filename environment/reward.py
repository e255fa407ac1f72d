"""Turn per-test outcomes into the SynapseNet reward.

Usage: python -m environment.reward RESULTS.json [--previous PREVIOUS.json]

RESULTS.json is {"tests": [{"id", "category", "service", "outcome"}, ...]} with outcome one of
passed, failed, error, skipped, xfailed, missing. Prints one JSON object with the reward and
every component. Bad input exits with code 2 and a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from environment.categories import CATEGORIES, CATEGORY_WEIGHTS, ML_PIPELINE

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "missing")
# (minimum weighted pass rate, base reward), highest first; 100% is handled apart.
THRESHOLDS: tuple[tuple[Fraction, Fraction], ...] = (
    (Fraction(85, 100), Fraction(78, 100)),
    (Fraction(70, 100), Fraction(55, 100)),
    (Fraction(55, 100), Fraction(38, 100)),
    (Fraction(40, 100), Fraction(22, 100)),
    (Fraction(25, 100), Fraction(12, 100)),
    (Fraction(10, 100), Fraction(5, 100)),
)
SERVICE_BONUS = Fraction(2, 100)
SERVICE_BONUS_CAP = Fraction(30, 100)
ML_BONUS = Fraction(10, 100)
REGRESSION_PENALTY = Fraction(15, 100)


class ResultsError(ValueError):
    """A results file is malformed."""


@dataclass(frozen=True)
class TestResult:
    """The outcome of one expected test."""

    __test__ = False  # not a pytest test class

    id: str
    category: str
    service: str
    outcome: str

    @property
    def passed(self) -> bool:
        """Return whether the test counts as passing."""
        return self.outcome == "passed"


def _entry(index: int, raw: object) -> TestResult:
    """Validate one entry of the tests list."""
    if not isinstance(raw, dict):
        raise ResultsError(f"tests[{index}] is not an object")
    for key in ("id", "category", "service", "outcome"):
        if not isinstance(raw.get(key), str):
            raise ResultsError(f"tests[{index}] needs a string {key!r}")
    if raw["category"] not in CATEGORY_WEIGHTS:
        raise ResultsError(f"tests[{index}] has unknown category {raw['category']!r}")
    if raw["outcome"] not in OUTCOMES:
        raise ResultsError(f"tests[{index}] has unknown outcome {raw['outcome']!r}")
    return TestResult(raw["id"], raw["category"], raw["service"], raw["outcome"])


def parse_results(data: object) -> list[TestResult]:
    """Validate a decoded results document and return its tests."""
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ResultsError('results must be an object with a "tests" list')
    tests = [_entry(i, raw) for i, raw in enumerate(data["tests"])]
    seen: set[str] = set()
    for test in tests:
        if test.id in seen:
            raise ResultsError(f"duplicate test id {test.id!r}")
        seen.add(test.id)
    return tests


def load_results(path: Path) -> list[TestResult]:
    """Read and validate a results file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path} is not valid JSON: {exc}") from None
    return parse_results(data)


def base_reward(rate: Fraction) -> Fraction:
    """Return the stepped base reward for a weighted pass rate."""
    if rate >= 1:
        return Fraction(1)
    return next((reward for floor, reward in THRESHOLDS if rate >= floor), Fraction(0))


def smooth_reward(rate: float) -> float:
    """Interpolate linearly between the base reward's threshold points."""
    points = [(0.0, 0.0), *[(float(f), float(r)) for f, r in reversed(THRESHOLDS)], (1.0, 1.0)]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if rate <= x1:
            return y0 + (y1 - y0) * (rate - x0) / (x1 - x0)
    return 1.0


def _weighted_rate(tests: list[TestResult]) -> Fraction:
    """Return the weighted fraction of passing tests (0 when there are none)."""
    total = sum((CATEGORY_WEIGHTS[t.category] for t in tests), Fraction(0))
    passed = sum((CATEGORY_WEIGHTS[t.category] for t in tests if t.passed), Fraction(0))
    return passed / total if total else Fraction(0)


def _categories(tests: list[TestResult]) -> dict[str, dict[str, Any]]:
    """Return per-category counts and each category's share of the weighted pass rate."""
    total = sum((CATEGORY_WEIGHTS[t.category] for t in tests), Fraction(0))
    table = {}
    for category in CATEGORIES:
        members = [t for t in tests if t.category == category]
        passed = sum(t.passed for t in members)
        weight = CATEGORY_WEIGHTS[category]
        share = weight * passed / total if total else Fraction(0)
        table[category] = {
            "tests": len(members),
            "passed": passed,
            "weight": float(weight),
            "weighted_contribution": round(float(share), 6),
        }
    return table


def passing_services(tests: list[TestResult]) -> list[str]:
    """Return the services that have tests and whose tests all pass."""
    services = sorted({t.service for t in tests})
    return [s for s in services if all(t.passed for t in tests if t.service == s)]


def regressions(tests: list[TestResult], previous: list[TestResult] | None) -> list[str]:
    """Return IDs that passed in the previous results and do not pass now."""
    if previous is None:
        return []
    now = {t.id: t.passed for t in tests}
    return sorted(t.id for t in previous if t.passed and not now.get(t.id, False))


def compute_reward(
    tests: list[TestResult], previous: list[TestResult] | None = None
) -> dict[str, Any]:
    """Return the reward and every component for a list of expected test results."""
    rate = _weighted_rate(tests)
    base = base_reward(rate)
    services = passing_services(tests)
    service_bonus = min(SERVICE_BONUS * len(services), SERVICE_BONUS_CAP)
    ml_tests = [t for t in tests if t.category == ML_PIPELINE]
    ml_bonus = ML_BONUS if ml_tests and all(t.passed for t in ml_tests) else Fraction(0)
    regressed = regressions(tests, previous)
    penalty = REGRESSION_PENALTY if regressed else Fraction(0)
    reward = min(max(base + service_bonus + ml_bonus - penalty, Fraction(0)), Fraction(1))
    passed = sum(t.passed for t in tests)
    weighted = float(rate)
    return {
        "reward": round(float(reward), 6),
        "base": float(base),
        "pass_rate": round(passed / len(tests), 6) if tests else 0.0,
        "weighted_pass_rate": round(weighted, 6),
        "service_bonus": float(service_bonus),
        "ml_bonus": float(ml_bonus),
        "regression_penalty": float(penalty),
        "passing_services": services,
        "regressions": regressed,
        "tests": len(tests),
        "passed": passed,
        "dense": {
            "linear": round(weighted, 6),
            "sublinear": round(math.sqrt(weighted), 6),
            "smooth": round(smooth_reward(weighted), 6),
        },
        "categories": _categories(tests),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the reward JSON for a results file; exit 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m environment.reward", description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--previous", type=Path)
    args = parser.parse_args(argv)
    try:
        tests = load_results(args.results)
        previous = load_results(args.previous) if args.previous else None
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(compute_reward(tests, previous), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
