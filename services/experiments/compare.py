"""Run comparison: params and final/best metrics of several runs side by side, compared exactly.

Values are compared as the numbers they are: ``1`` and ``1.0`` are the same param value,
``0.1`` and ``0.10000000000000001`` are not, and a string or boolean never equals a number.
Metric differences are exact decimals (``0.3 - 0.1`` is ``0.2``). Which extreme is "best"
follows the metric's name: losses and errors are best low, everything else best high.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.experiments import metrics
from services.experiments.models import Run
from services.experiments.values import exact, is_number

LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "perplexity")


def lower_is_better(key: str) -> bool:
    """Return whether a metric improves as it falls (by its name)."""
    name = key.lower()
    return any(word in name for word in LOWER_IS_BETTER)


def same_value(left: Any, right: Any) -> bool:
    """Return whether two parsed param values are equal by the comparison's rules."""
    if is_number(left) and is_number(right):
        return _number(left) == _number(right)
    if is_number(left) or is_number(right):
        return False
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_value(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_value, left, right))
    return type(left) is type(right) and left == right


def compare_runs(runs: list[Run]) -> dict[str, Any]:
    """Return the comparison body of runs (params and metrics side by side, in run order)."""
    params = [{p.key: p.value for p in run.params.all()} for run in runs]
    keys = sorted(set().union(*params)) if params else []
    param_rows = []
    for key in keys:
        texts = [row.get(key) for row in params]
        parsed = [None if text is None else exact(text) for text in texts]
        present = [value for value, text in zip(parsed, texts, strict=True) if text is not None]
        differs = len(present) < len(runs) or any(
            not same_value(present[0], value) for value in present[1:]
        )
        param_rows.append({"key": key, "values": texts, "differs": differs})
    return {
        "run_ids": [run.run_id for run in runs],
        "params": param_rows,
        "differing_params": [row["key"] for row in param_rows if row["differs"]],
        "metrics": _metric_rows(runs),
    }


def _metric_rows(runs: list[Run]) -> list[dict[str, Any]]:
    by_run = metrics.summaries(runs)
    keys = sorted({key for summary in by_run.values() for key in summary})
    rows = []
    for key in keys:
        found = [by_run.get(run.pk, {}).get(key) for run in runs]
        low = lower_is_better(key)
        finals = [None if s is None else s.last for s in found]
        bests = [None if s is None else (s.minimum if low else s.maximum) for s in found]
        rows.append(
            {
                "key": key,
                "goal": "minimize" if low else "maximize",
                "final": [_text(v) for v in finals],
                "best": [_text(v) for v in bests],
                "final_delta": _text(_delta(finals)),
                "best_run_id": _best_run(runs, bests, low),
            }
        )
    return rows


def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _delta(values: list[Decimal | None]) -> Decimal | None:
    # The last run's value minus the first run's: how far the comparison moved the metric.
    if len(values) < 2 or values[0] is None or values[-1] is None:
        return None
    return _number(values[-1]) - _number(values[0])


def _best_run(runs: list[Run], bests: list[Decimal | None], low: bool) -> str | None:
    scored = [
        (v, r) for v, r in zip(bests, (run.run_id for run in runs), strict=True) if v is not None
    ]
    if not scored:
        return None
    best = min(scored, key=lambda item: item[0]) if low else max(scored, key=lambda item: item[0])
    return best[1]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
