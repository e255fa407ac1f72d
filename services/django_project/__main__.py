"""Run Django management commands against the shared settings: python -m services.django_project."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Create the local SQLite folder, then run the management command in argv."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "services.django_project.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    execute_from_command_line(["python -m services.django_project", *(argv or sys.argv[1:])])


if __name__ == "__main__":
    main()
