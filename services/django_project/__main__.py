"""Run Django management commands against the shared settings: python -m services.django_project.

Besides Django's own commands, ``migrate_all [options]`` runs ``migrate --database <alias>``
for "default" and then for the database of every built Django service, each alias once; the
router lets each app create its tables only in its own database.
"""

from __future__ import annotations

import os
import sys

PROG = "python -m services.django_project"
MIGRATE_ALL = "migrate_all"


def migration_aliases() -> list[str]:
    """Return "default", then each built Django service's database alias, without repeats."""
    from services.django_project.routers import DEFAULT_ALIAS
    from shared.services import django_services

    aliases = [DEFAULT_ALIAS, *(spec.database for spec in django_services() if spec.database)]
    return list(dict.fromkeys(aliases))


def main(argv: list[str] | None = None) -> None:
    """Create the local SQLite folder, then run the management command in argv."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "services.django_project.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    if args[:1] != [MIGRATE_ALL]:
        execute_from_command_line([PROG, *args])
        return
    for alias in migration_aliases():
        execute_from_command_line([PROG, "migrate", "--database", alias, *args[1:]])


if __name__ == "__main__":
    main()
