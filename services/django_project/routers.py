"""Route each Django app to its logical database for reads, writes, relations and migrations."""

from __future__ import annotations

from typing import Any

from shared.services import django_services

# App label → database alias, from the manifest (every Django service, built or not, so a new
# app lands in its database from its first migration). Labels never collide with django.contrib
# ("auth", "admin"...): the manifest refuses those, hence "accounts" for the auth service.
APP_DATABASES: dict[str, str] = {
    spec.app_label: spec.database
    for spec in django_services(built_only=False)
    if spec.app_label and spec.database
}
DEFAULT_ALIAS = "default"


def database_for(app_label: str) -> str:
    """Return the alias that holds an app's tables; unmapped apps live in "default"."""
    return APP_DATABASES.get(app_label, DEFAULT_ALIAS)


class DatabaseRouter:
    """Send every query and migration of an app to the alias in APP_DATABASES."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        """Read a model from its app's database."""
        return database_for(model._meta.app_label)

    def db_for_write(self, model: Any, **hints: Any) -> str:
        """Write a model to its app's database."""
        return database_for(model._meta.app_label)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        """Allow relations only between objects stored in the same database."""
        return database_for(obj1._meta.app_label) == database_for(obj2._meta.app_label)

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        """Create an app's tables in its own database and nowhere else."""
        return db == database_for(app_label)
