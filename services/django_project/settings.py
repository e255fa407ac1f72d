"""Django settings for every Django service; values come from the environment in one place."""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("SYNAPSE_DJANGO_SECRET_KEY", "dev-only-not-secret")
DEBUG = os.environ.get("SYNAPSE_DJANGO_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "rest_framework",
]

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "services.django_project.urls"

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
