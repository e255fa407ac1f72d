"""Turn database URLs from the environment into Django DATABASES entries."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from shared.services import LOGICAL_DATABASES

# The logical databases of the platform; "default" only holds Django's own tables.
DATABASE_ALIASES = ("default", *LOGICAL_DATABASES)

POSTGRES_ENGINE = "django.db.backends.postgresql"
SQLITE_ENGINE = "django.db.backends.sqlite3"
ENGINES = {
    "postgres": POSTGRES_ENGINE,
    "postgresql": POSTGRES_ENGINE,
    "pgsql": POSTGRES_ENGINE,
    "sqlite": SQLITE_ENGINE,
}


def env_var_for(alias: str) -> str:
    """Return the environment variable that holds the URL of a database alias."""
    return f"SYNAPSE_DB_{alias.upper()}_URL"


def parse_database_url(url: str) -> dict[str, Any]:
    """Parse a postgres:// or sqlite:// URL into one Django DATABASES entry."""
    parts = urlsplit(url.strip())
    engine = ENGINES.get(parts.scheme.lower())
    if engine is None:
        raise ImproperlyConfigured(f"unsupported database URL scheme {parts.scheme!r}")
    if engine == SQLITE_ENGINE:
        return {"ENGINE": engine, "NAME": _sqlite_name(parts.netloc, parts.path)}
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("a postgres database URL needs a database name")
    return {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def _sqlite_name(netloc: str, path: str) -> str:
    # sqlite://:memory:, sqlite:///:memory: → in memory; sqlite:///rel.db and sqlite:////abs.db.
    if netloc == ":memory:" or path in ("", "/", "/:memory:"):
        return ":memory:"
    return unquote(path[1:])


def database_settings(environ: Mapping[str, str], var_dir: Path) -> dict[str, dict[str, Any]]:
    """Build DATABASES for every alias: its URL variable, else a SQLite file in var_dir."""
    databases: dict[str, dict[str, Any]] = {}
    for alias in DATABASE_ALIASES:
        url = environ.get(env_var_for(alias), "").strip()
        if url:
            databases[alias] = parse_database_url(url)
        else:
            databases[alias] = {
                "ENGINE": SQLITE_ENGINE,
                "NAME": str(var_dir / f"{alias}.sqlite3"),
                # SQLite ignores SELECT ... FOR UPDATE; taking the write lock at BEGIN
                # serialises writers the way row locks do on PostgreSQL.
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            }
        # Under the test runner Django builds each SQLite test database in memory.
        databases[alias].setdefault("TEST", {})
    return databases
