"""Django settings for every Django service; values come from the environment in one place.

Environment variables (all optional):

| variable | default | meaning |
|---|---|---|
| `SYNAPSE_DJANGO_SECRET_KEY` | `dev-only-not-secret` | Django `SECRET_KEY`; set it in production. |
| `SYNAPSE_DJANGO_DEBUG` | `false` | `true` turns on Django `DEBUG`. |
| `SYNAPSE_DJANGO_ALLOWED_HOSTS` | `*` | comma-separated `ALLOWED_HOSTS`. |
| `SYNAPSE_DJANGO_VAR_DIR` | `<repo>/var` | folder of the local SQLite files (used without a URL). |
| `SYNAPSE_DB_DEFAULT_URL` | SQLite `var/default.sqlite3` | Django's own tables (contenttypes). |
| `SYNAPSE_DB_MODELS_DB_URL` | SQLite `var/models_db.sqlite3` | models_db. |
| `SYNAPSE_DB_USERS_DB_URL` | SQLite `var/users_db.sqlite3` | users_db. |
| `SYNAPSE_DB_EXPERIMENTS_DB_URL` | SQLite `var/experiments_db.sqlite3` | experiments_db. |
| `SYNAPSE_DB_METRICS_DB_URL` | SQLite `var/metrics_db.sqlite3` | metrics_db. |
| `SYNAPSE_REGISTRY_EXPERIMENTS_URL` | unset | experiments URL the registry checks runs at. |
| `SYNAPSE_EXPERIMENTS_REGISTRY_URL` | unset | registry URL experiments lists versions at. |

Database URLs are `postgres://user:password@host:port/name?option=value` or
`sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite://:memory:`. Tests need no variable:
the test runner (pytest-django) creates every SQLite test database in memory. Which apps live
in which database: the table below.

The Django services of the manifest (`shared/services.py`) share this configuration; each
serves only its own URLconf (`wsgi.get_wsgi_application_for(service)`) and keeps its tables in
its logical database (`routers.DatabaseRouter`). INSTALLED_APPS, SYNAPSE_SERVICE_URLCONFS and the
router's table derive from the manifest: a service is installed once its entry says `built`.
App labels must not collide with `django.contrib`:

| service | app label | database | URLconf | built |
|---|---|---|---|---|
| auth | `accounts` | users_db | `services.auth.urls` | no |
| registry | `registry` | models_db | `services.registry.urls` | yes |
| features | `features` | models_db | `services.features.urls` | yes |
| experiments | `experiments` | experiments_db | `services.experiments.urls` | yes |
| scheduler | `scheduler` | models_db | `services.scheduler.urls` | no |
| webhooks | `webhooks` | models_db | `services.webhooks.urls` | no |
| admin | `platform_admin` | users_db | `services.admin.urls` | no |
"""

from __future__ import annotations

import os
from pathlib import Path

from services.django_project.databases import database_settings
from services.django_project.upstreams import upstream_urls
from shared.services import django_services

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("SYNAPSE_DJANGO_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = os.environ.get("SYNAPSE_DJANGO_SECRET_KEY", "dev-only-not-secret")
DEBUG = os.environ.get("SYNAPSE_DJANGO_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("SYNAPSE_DJANGO_ALLOWED_HOSTS", "*").split(",")
    if host.strip()
]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Each app's apps.py holds its one AppConfig, which Django picks from the package name.
    *(spec.package for spec in django_services()),
]

MIDDLEWARE: list[str] = [
    "services.django_project.middleware.CorrelationIDMiddleware",
    "services.django_project.middleware.ServiceURLConfMiddleware",
]
ROOT_URLCONF = "services.django_project.urls"

# Service name → URLconf; the WSGI/ASGI builders and the middleware pick one per request.
SYNAPSE_SERVICE_URLCONFS = {spec.name: spec.urlconf for spec in django_services()}

DATABASES = database_settings(os.environ, VAR_DIR)
# Where each service calls the others (services.django_project.upstreams); unset: not called.
SYNAPSE_UPSTREAM_URLS = upstream_urls(os.environ)
DATABASE_ROUTERS = ["services.django_project.routers.DatabaseRouter"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # synapse/redoc.html: the offline Redoc page (services.django_project.docs).
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["services.django_project.parsers.PlatformJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "services.django_project.errors.problem_exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SynapseNet Django services",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # 3.1 (JSON Schema 2020-12) like the FastAPI services; metrics need propertyNames.
    "OAS_VERSION": "3.1.0",
    "ENUM_NAME_OVERRIDES": {"StageEnum": "services.registry.models.Stage"},
    # Swagger UI and Redoc from the pinned drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request schemas state the JSON parser's NUL rule (services.django_project.storable).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "services.django_project.storable.declare_storable_bodies",
    ],
}

# Largest request body a Django service reads (413 problem beyond it); the registry's largest
# valid body (64 KiB of params, 1024 feature names) is far below.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# The docs pages' assets, served by each service itself (services.django_project.docs).
STATIC_URL = "/static/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
