"""Django app configuration of the registry service."""

from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Register the model registry app under its label."""

    name = "services.registry"
    label = "registry"
    verbose_name = "Model registry"
    default_auto_field = "django.db.models.BigAutoField"
