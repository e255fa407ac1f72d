"""Feature drift alerts: the feature store's drift report between a training and a serving window.

Each correlated group the report flags is one alert of rule ``feature_drift:<view>`` whose
``model`` is the group's features joined by ``+``: a group that keeps drifting raises nothing
new, a group that no longer drifts is resolved, silences of the rule mute it. So a shift of
several correlated features (a balance and its mirror, a debt) is one alert, not a storm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.monitoring.alerts import FIRING, RESOLVED, Announce, open_alert, silenced
from services.monitoring.store import AlertRow
from shared.events.schema import EventType

RULE_PREFIX = "feature_drift:"
DriftReport = Callable[[str, dict[str, str], dict[str, str]], dict[str, Any]]


def drift_rule(view: str) -> str:
    """Return the alert rule name drift of ``view`` is raised under."""
    return f"{RULE_PREFIX}{view}"[:64]


def group_name(features: list[str]) -> str:
    """Return the alert subject of one correlated group."""
    return "+".join(sorted(features))[:128]


def apply_report(
    session: Session, view: str, report: dict[str, Any], now: datetime, announce: Announce
) -> list[AlertRow]:
    """Raise an alert per newly drifted group and resolve groups that stopped drifting."""
    rule = drift_rule(view)
    drifted = {group_name(alert["features"]): float(alert["psi"]) for alert in report["alerts"]}
    changed: list[AlertRow] = []
    for group, psi in sorted(drifted.items()):
        if open_alert(session, rule, group) is not None:
            continue
        muted = silenced(session, rule, group, now)
        alert = AlertRow(
            rule=rule, model=group, status=FIRING, value=psi, silenced=muted, fired_at=now
        )
        session.add(alert)
        changed.append(alert)
        if not muted:
            announce(EventType.ALERT_FIRED, {"rule": rule, "model": group, "value": psi})
    firing = select(AlertRow).where(AlertRow.rule == rule, AlertRow.status == FIRING)
    for alert in session.scalars(firing).all():
        if alert.model not in drifted:
            alert.status, alert.resolved_at = RESOLVED, now
            changed.append(alert)
            if not alert.silenced:
                data = {"rule": rule, "model": alert.model, "value": alert.value}
                announce(EventType.ALERT_RESOLVED, data)
    session.flush()
    return changed
