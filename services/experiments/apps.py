"""Django app configuration of the experiments service."""

from __future__ import annotations

from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    """Register the experiment-tracking app under its label."""

    name = "services.experiments"
    label = "experiments"
    verbose_name = "Experiment tracking"
    default_auto_field = "django.db.models.BigAutoField"
