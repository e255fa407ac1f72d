"""The manifest of the fifteen SynapseNet services: what every other service table derives from.

Each entry fixes a service's framework, port and logical database as the product brief's
service table has them, plus what configuration derives from that: the Django app label, the
environment prefix of its settings, its default local URL and whether its code exists yet
(``built``; the services still to come keep their place here so ports and databases never move).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Framework = Literal["fastapi", "django", "celery"]

# How the brief's table names each framework (docs tables are checked against these words).
FRAMEWORK_LABELS: dict[Framework, str] = {
    "fastapi": "FastAPI",
    "django": "Django",
    "celery": "Celery",
}
# App labels a Django service must not take: django.contrib's and the installed third parties'.
RESERVED_APP_LABELS = frozenset(
    {
        "admin",
        "admindocs",
        "auth",
        "contenttypes",
        "flatpages",
        "gis",
        "humanize",
        "messages",
        "postgres",
        "redirects",
        "sessions",
        "sitemaps",
        "sites",
        "staticfiles",
        "syndication",
        "rest_framework",
        "drf_spectacular",
    }
)
LOGICAL_DATABASES = ("models_db", "users_db", "experiments_db", "metrics_db")


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its web framework, port, database and the names derived from them."""

    name: str
    port: int
    framework: Framework
    database: str | None = None
    # Runs Celery workers besides (or, for framework "celery", instead of) a web app.
    celery_worker: bool = False
    # Django app label; defaults to the service name, set where that would collide.
    label: str | None = None
    # Whether services/<name>/ exists yet; only built services are installed and routed to.
    built: bool = False

    def __post_init__(self) -> None:
        if self.database is not None and self.database not in LOGICAL_DATABASES:
            raise ValueError(f"{self.name}: unknown logical database {self.database!r}")
        if self.label is not None and self.framework != "django":
            raise ValueError(f"{self.name}: only Django services have an app label")
        if self.framework == "django" and self.app_label in RESERVED_APP_LABELS:
            raise ValueError(f"{self.name}: app label {self.app_label!r} is taken by Django")
        if self.framework == "celery" and not self.celery_worker:
            raise ValueError(f"{self.name}: a Celery service runs a worker")

    @property
    def package(self) -> str:
        """Return the Python package that holds the service's code."""
        return f"services.{self.name}"

    @property
    def app_label(self) -> str | None:
        """Return the Django app label (tables are named after it), or None for non-Django."""
        if self.framework != "django":
            return None
        return self.label or self.name

    @property
    def urlconf(self) -> str | None:
        """Return the Django URLconf module, or None for non-Django services."""
        return f"{self.package}.urls" if self.framework == "django" else None

    @property
    def env_prefix(self) -> str:
        """Return the prefix of the environment variables its settings read."""
        return f"SYNAPSE_{self.name.upper()}_"

    @property
    def default_url(self) -> str:
        """Return the base URL of a local run on the service's port."""
        return f"http://localhost:{self.port}"

    @property
    def framework_label(self) -> str:
        """Return the framework as the brief's table writes it, e.g. "Celery + FastAPI"."""
        label = FRAMEWORK_LABELS[self.framework]
        if self.celery_worker and self.framework != "celery":
            return f"Celery + {label}"
        return label


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("gateway", 8000, "fastapi", built=True),
        ServiceSpec("auth", 8001, "django", "users_db", label="accounts"),
        ServiceSpec("models", 8002, "fastapi", "models_db", built=True),
        ServiceSpec("registry", 8003, "django", "models_db", built=True),
        ServiceSpec("training", 8004, "fastapi", "models_db", celery_worker=True, built=True),
        ServiceSpec("inference", 8005, "fastapi", built=True),
        ServiceSpec("features", 8006, "django", "models_db", built=True),
        ServiceSpec("pipeline", 8007, "fastapi", "models_db", celery_worker=True, built=True),
        ServiceSpec("experiments", 8008, "django", "experiments_db", built=True),
        ServiceSpec("monitoring", 8009, "fastapi", "metrics_db", built=True),
        ServiceSpec("scheduler", 8010, "django", "models_db"),
        ServiceSpec("workers", 8011, "celery", celery_worker=True),
        ServiceSpec("storage", 8012, "fastapi", "models_db", built=True),
        ServiceSpec("webhooks", 8013, "django", "models_db"),
        # "admin" is django.contrib.admin's label; the platform's admin console takes another.
        ServiceSpec("admin", 8014, "django", "users_db", label="platform_admin"),
    )
}


def built_services() -> list[ServiceSpec]:
    """Return the services whose code exists, in manifest order."""
    return [spec for spec in SERVICES.values() if spec.built]


def django_services(*, built_only: bool = True) -> list[ServiceSpec]:
    """Return the Django services (only the built ones unless told otherwise)."""
    return [
        spec
        for spec in SERVICES.values()
        if spec.framework == "django" and (spec.built or not built_only)
    ]


def env_prefix(name: str) -> str:
    """Return the settings environment prefix of a service named in the manifest."""
    return SERVICES[name].env_prefix
