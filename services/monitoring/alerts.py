"""Alert rules: evaluate each rule per model over its window, raise once, resolve, silence.

A rule holds while its metric, computed over the prediction events of the last
``window_seconds`` before the evaluation time, is at or above its threshold. One alert is open
per rule and model at a time: a rule that keeps holding raises nothing new, and the open alert
is resolved at the first evaluation where the rule no longer holds. An alert raised while a
silence of its rule (and model) is active is recorded as silenced and not announced.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.monitoring.histograms import percentile
from services.monitoring.store import AlertRow, EventRow, RuleRow, SilenceRow
from shared.events.schema import EventType

PREDICTION = EventType.PREDICTION_SERVED.value
FIRING, RESOLVED = "firing", "resolved"
# What a rule can watch: requests, failed requests (status >= 400), 95th percentile latency.
METRICS = ("request_count", "error_count", "latency_p95")
Announce = Callable[[EventType, dict[str, Any]], None]


def window_start(rule: RuleRow, now: datetime) -> datetime:
    """Return the earliest event time a rule evaluated at ``now`` looks at (exclusive)."""
    return now - timedelta(seconds=rule.window_seconds)


def metric_value(session: Session, rule: RuleRow, model: str, now: datetime) -> float:
    """Return the rule's metric for ``model`` over the rule's window ending at ``now``."""
    since = window_start(rule, now)
    in_window = (
        EventRow.type == PREDICTION,
        EventRow.model == model,
        EventRow.occurred_at > since,
        EventRow.occurred_at <= now,
    )
    if rule.metric == "latency_p95":
        latencies = session.scalars(select(EventRow.latency_ms).where(*in_window)).all()
        return percentile((v for v in latencies if v is not None), 95) or 0.0
    count = select(func.count()).select_from(EventRow).where(*in_window)
    if rule.metric == "error_count":
        count = count.where(EventRow.status >= 400)
    return float(session.scalar(count) or 0)


def watched_models(session: Session, rule: RuleRow, now: datetime) -> list[str]:
    """Return the models a rule is evaluated for (its own model when it names one)."""
    if rule.model is not None:
        return [rule.model]
    seen = select(EventRow.model).where(
        EventRow.type == PREDICTION,
        EventRow.model.is_not(None),
        EventRow.occurred_at > window_start(rule, now),
    )
    alerting = select(AlertRow.model).where(AlertRow.rule == rule.name, AlertRow.status == FIRING)
    models = set(session.scalars(seen)) | set(session.scalars(alerting))
    return sorted(m for m in models if m is not None)


def open_alert(session: Session, rule: str, model: str) -> AlertRow | None:
    """Return the firing alert of a rule and model, if one is open."""
    stmt = select(AlertRow).where(
        AlertRow.rule == rule, AlertRow.model == model, AlertRow.status == FIRING
    )
    return session.scalars(stmt.limit(1)).first()


def silenced(session: Session, rule: str, model: str, at: datetime) -> bool:
    """Return whether a silence of ``rule`` (for ``model`` or every model) is active at ``at``."""
    stmt = select(SilenceRow.id).where(
        SilenceRow.rule == rule,
        (SilenceRow.model.is_(None)) | (SilenceRow.model == model),
        SilenceRow.starts_at <= at,
        SilenceRow.ends_at > at,
    )
    return session.scalar(stmt.limit(1)) is not None


def evaluate(session: Session, now: datetime, announce: Announce) -> list[AlertRow]:
    """Evaluate every rule at ``now``; return the alerts raised or resolved by this pass."""
    changed: list[AlertRow] = []
    for rule in session.scalars(select(RuleRow).order_by(RuleRow.name)).all():
        for model in watched_models(session, rule, now):
            alert = _step(session, rule, model, now, announce)
            if alert is not None:
                changed.append(alert)
    session.flush()
    return changed


def _step(
    session: Session, rule: RuleRow, model: str, now: datetime, announce: Announce
) -> AlertRow | None:
    value = metric_value(session, rule, model, now)
    holds = value >= rule.threshold
    current = open_alert(session, rule.name, model)
    data = {"rule": rule.name, "model": model, "value": value}
    if holds and current is None:
        muted = silenced(session, rule.name, model, now)
        alert = AlertRow(
            rule=rule.name, model=model, status=FIRING, value=value, silenced=muted, fired_at=now
        )
        session.add(alert)
        session.flush()
        if not muted:
            announce(EventType.ALERT_FIRED, data)
        return alert
    if not holds and current is not None:
        current.status = RESOLVED
        current.resolved_at = now
        current.value = value
        if not current.silenced:
            announce(EventType.ALERT_RESOLVED, data)
        return current
    return None
