"""Prometheus text exposition of the ingested predictions and the alert state.

Label values come from the bus, so their number is bounded: each label keeps the first
``max_label_values`` values in order of first appearance and folds later ones into "other".
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.monitoring.alerts import FIRING, PREDICTION
from services.monitoring.config import Settings
from services.monitoring.histograms import Histogram, LabelLimiter, format_bound
from services.monitoring.store import AlertRow, EventRow


def escape(value: str) -> str:
    """Escape a label value as the text format requires."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def outcome(status: int | None) -> str:
    """Return the outcome label of a prediction's HTTP status."""
    if status is None or status < 400:
        return "ok"
    return "client_error" if status < 500 else "server_error"


def _labels(**labels: str) -> str:
    return ",".join(f'{name}="{escape(value)}"' for name, value in labels.items())


def render_metrics(session: Session, settings: Settings) -> str:
    """Return the exposition text of every metric monitoring keeps."""
    first_seen = (
        select(EventRow.model, func.min(EventRow.id).label("first"))
        .where(EventRow.type == PREDICTION, EventRow.model.is_not(None))
        .group_by(EventRow.model)
        .order_by("first")
    )
    models = LabelLimiter(settings.max_label_values)
    for model, _ in session.execute(first_seen).all():
        models.fold(model)
    bounds = tuple(settings.latency_buckets)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    histograms: dict[str, Histogram] = {}
    rows = session.execute(
        select(EventRow.model, EventRow.status, EventRow.latency_ms)
        .where(EventRow.type == PREDICTION)
        .order_by(EventRow.id)
    )
    for model, status, latency in rows:
        label = models.fold(model or "")
        totals[(label, outcome(status))] += 1
        if latency is not None:
            histograms.setdefault(label, Histogram(bounds)).observe(float(latency))
    lines = [
        "# HELP synapse_predictions_total Prediction requests by model and outcome.",
        "# TYPE synapse_predictions_total counter",
    ]
    for (model, result), count in sorted(totals.items()):
        lines.append(f"synapse_predictions_total{{{_labels(model=model, outcome=result)}}} {count}")
    lines += [
        "# HELP synapse_prediction_latency_ms Prediction latency in milliseconds.",
        "# TYPE synapse_prediction_latency_ms histogram",
    ]
    for model, histogram in sorted(histograms.items()):
        for le, count in histogram.cumulative():
            labels = _labels(model=model, le=le)
            lines.append(f"synapse_prediction_latency_ms_bucket{{{labels}}} {count}")
        lines.append(
            f"synapse_prediction_latency_ms_sum{{{_labels(model=model)}}} "
            f"{format_bound(round(histogram.total, 6))}"
        )
        lines.append(
            f"synapse_prediction_latency_ms_count{{{_labels(model=model)}}} {histogram.count}"
        )
    firing = session.execute(
        select(AlertRow.rule, func.count()).where(AlertRow.status == FIRING).group_by(AlertRow.rule)
    ).all()
    lines += [
        "# HELP synapse_alerts_firing Open alerts by rule.",
        "# TYPE synapse_alerts_firing gauge",
    ]
    lines += [f"synapse_alerts_firing{{{_labels(rule=rule)}}} {count}" for rule, count in firing]
    return "\n".join(lines) + "\n"
