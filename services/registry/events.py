"""What the registry announces on the bus: version registrations and promotions.

Publishes ``model.version.registered`` and ``model.version.promoted`` (topic models.versions);
it consumes nothing. Events go out only once the database transaction has committed, so a
rolled-back registration or promotion is never announced; a failing broker is logged and
does not undo the committed change (``robust`` on-commit callbacks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from services.django_project.routers import database_for
from services.registry.models import ModelVersion, Stage
from shared.backends import ports
from shared.events.schema import EventType, make_event, publish_event
from shared.tracing import current_correlation_id

SOURCE = "registry"
DB = database_for("registry")
logger = logging.getLogger(__name__)


def version_registered(version: ModelVersion) -> None:
    """Announce a new version once the registration commits."""
    data = {
        "name": version.model.name,
        "version": version.version,
        "artifact_uri": version.artifact_uri,
    }
    _after_commit(EventType.MODEL_VERSION_REGISTERED, data)


def version_moved(version: ModelVersion, archived: Iterable[ModelVersion]) -> None:
    """Announce a promotion to Production with the versions it archived."""
    if version.stage != Stage.PRODUCTION:
        return
    data = {
        "name": version.model.name,
        "version": version.version,
        "artifact_uri": version.artifact_uri,
        "archived_versions": sorted(row.version for row in archived),
    }
    _after_commit(EventType.MODEL_VERSION_PROMOTED, data)


def _after_commit(event_type: EventType, data: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _publish(event_type, data), using=DB, robust=True)


def _publish(event_type: EventType, data: dict[str, Any]) -> None:
    # Commit callbacks run inside the request, so the request's correlation ID is still bound.
    event = make_event(event_type, data, source=SOURCE, correlation_id=current_correlation_id())
    publish_event(ports().bus, event)
    logger.info("published %s for %s v%s", event_type.value, data["name"], data["version"])
