"""Transform chains run in the order they are declared, on exact decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.errors import ValidationError
from shared.ml.feature_utils import apply_chain, validate_chain

pytestmark = pytest.mark.features


def scale(factor: str) -> dict[str, Any]:
    return {"op": "scale", "factor": Decimal(factor)}


def shift(by: str) -> dict[str, Any]:
    return {"op": "shift", "by": Decimal(by)}


def clip(low: str, high: str) -> dict[str, Any]:
    return {"op": "clip", "low": Decimal(low), "high": Decimal(high)}


def rounded(places: int) -> dict[str, Any]:
    return {"op": "round", "places": places}


@pytest.mark.parametrize(
    ("value", "chain", "expected"),
    [
        ("10", [shift("5"), scale("2")], "30"),
        ("10", [scale("2"), shift("5")], "25"),
        ("250", [clip("0", "100"), scale("0.01")], "1.00"),
        ("250", [scale("0.01"), clip("0", "100")], "2.50"),
        ("-3", [clip("0", "10"), shift("1")], "1"),
        ("-3", [shift("1"), clip("0", "10")], "0"),
        ("1.005", [scale("3"), rounded(2)], "3.02"),
        ("1.005", [rounded(2), scale("3")], "3.00"),
        ("7", [shift("-2"), scale("3"), shift("1")], "16"),
        ("7", [scale("3"), shift("-2"), clip("0", "15")], "15"),
        ("0.1", [shift("0.2"), scale("10")], "3.0"),
        ("99.99", [scale("1.2"), rounded(1), shift("0.05")], "120.05"),
        ("5", [clip("6", "8"), shift("-6"), scale("4")], "0"),
        ("100", [shift("-50"), clip("0", "20"), scale("0.5"), shift("1")], "11.0"),
    ],
)
def test_steps_apply_first_to_last(value: str, chain: list[dict[str, Any]], expected: str) -> None:
    assert apply_chain(Decimal(value), chain) == Decimal(expected)


def test_a_shift_then_a_scale_is_not_a_scale_then_a_shift() -> None:
    first = apply_chain(Decimal(1), [shift("1"), scale("10")])
    second = apply_chain(Decimal(1), [scale("10"), shift("1")])
    assert (first, second) == (Decimal(20), Decimal(11))


def test_shifting_a_tenth_by_two_tenths_is_exactly_three_tenths() -> None:
    assert apply_chain(Decimal("0.1"), [shift("0.2")]) == Decimal("0.3")


def test_an_empty_chain_keeps_the_value() -> None:
    assert apply_chain(Decimal("12.34"), []) == Decimal("12.34")


def test_a_missing_value_stays_missing() -> None:
    assert apply_chain(None, [shift("1"), scale("2")]) is None


def test_rounding_is_half_to_even() -> None:
    assert apply_chain(Decimal("2.5"), [rounded(0)]) == Decimal(2)


@pytest.mark.parametrize(
    "chain",
    [
        "scale",
        [{"op": "log"}],
        [{"op": "scale"}],
        [{"op": "scale", "factor": 2, "by": 1}],
        [{"op": "shift", "by": "1"}],
        [{"op": "shift", "by": True}],
        [{"op": "clip", "low": 5, "high": 1}],
        [{"op": "round", "places": 13}],
        [{"op": "round", "places": Decimal("1.5")}],
        [{"op": "scale", "factor": Decimal("Infinity")}],
    ],
)
def test_malformed_chains_are_refused(chain: Any) -> None:
    with pytest.raises(ValidationError):
        validate_chain(chain)


def test_a_valid_chain_comes_back_in_its_order() -> None:
    chain = [shift("1"), clip("0", "3"), rounded(1)]
    assert validate_chain(chain) == chain
