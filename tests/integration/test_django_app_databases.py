"""Every Django app of the service table, built or not yet, has its tables in its own database."""

from __future__ import annotations

import pytest

from services.django_project.routers import DEFAULT_ALIAS, database_for
from shared.services import django_services

pytestmark = pytest.mark.registry


def test_apps_of_services_not_built_yet_already_route_to_their_database():
    planned = [s for s in django_services(built_only=False) if not s.built and s.database]
    assert planned, "the service table lists Django services still to build"
    for spec in planned:
        assert database_for(spec.app_label) == spec.database, spec.name


def test_an_app_outside_the_service_table_stays_in_the_default_database():
    assert database_for("contenttypes") == DEFAULT_ALIAS
