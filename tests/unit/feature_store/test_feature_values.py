"""Feature values keep every digit: exact decimals, exact statistics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.errors import ValidationError
from shared.ml.feature_utils import exact, summarize

pytestmark = pytest.mark.features


def decimals(*texts: str) -> list[Decimal]:
    return [Decimal(t) for t in texts]


@pytest.mark.parametrize(
    ("values", "mean"),
    [
        (("0.1", "0.2", "0.4"), "0.2333333333333333333333333333"),
        (("1", "2", "2"), "1.666666666666666666666666667"),
        (("19.99", "0.01", "0"), "6.666666666666666666666666667"),
        (("0.1",) * 7, "0.1"),
        (("12345678901234567.1", "0.1"), "6172839450617283.6"),
        (("10", "20", "40"), "23.33333333333333333333333333"),
        (("0.3", "0.6", "0.9", "0.1", "0.2", "0.5"), "0.4333333333333333333333333333"),
        (("1e-7", "3e-7"), "2E-7"),
        (("99999999999999999", "1"), "50000000000000000"),
        (("2.5", "2.5", "2.6"), "2.533333333333333333333333333"),
    ],
)
def test_the_mean_is_exact(values: tuple[str, ...], mean: str) -> None:
    assert summarize(decimals(*values))["mean"] == mean


def test_sum_min_max_and_count_are_exact_text() -> None:
    stats = summarize(decimals("0.1", "0.2", "0.30"))
    assert stats["count"] == 3
    assert stats["sum"] == "0.60"
    assert (stats["min"], stats["max"]) == ("0.1", "0.30")


def test_no_values_have_no_mean() -> None:
    assert summarize([]) == {"count": 0, "sum": "0", "mean": None, "min": None, "max": None}


@pytest.mark.parametrize(
    ("value", "dtype", "expected"),
    [
        (Decimal("0.10000000000000001"), "decimal", Decimal("0.10000000000000001")),
        (3, "int64", Decimal(3)),
        (Decimal("3.0"), "int64", Decimal("3.0")),
        (0.5, "float64", Decimal("0.5")),
        ("EUR", "string", "EUR"),
        (True, "bool", True),
        (None, "decimal", None),
    ],
)
def test_values_of_each_dtype_are_taken(value: Any, dtype: str, expected: Any) -> None:
    assert exact(value, dtype) == expected


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        ("3", "int64"),
        (True, "int64"),
        (Decimal("3.5"), "int64"),
        (2**63, "int64"),
        (Decimal("Infinity"), "decimal"),
        (float("nan"), "float64"),
        (3, "string"),
        (1, "bool"),
        ([1], "decimal"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(value: Any, dtype: str) -> None:
    with pytest.raises(ValidationError):
        exact(value, dtype)
