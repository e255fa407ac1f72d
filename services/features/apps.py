"""Django app configuration of the features service."""

from __future__ import annotations

from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    """Register the feature store app under its label."""

    name = "services.features"
    label = "features"
    verbose_name = "Feature store"
    default_auto_field = "django.db.models.BigAutoField"
