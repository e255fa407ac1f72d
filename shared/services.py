"""The fifteen SynapseNet services with their default ports and logical databases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    """One service: name, default port, framework and logical database."""

    name: str
    port: int
    framework: str
    database: str | None = None


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("gateway", 8000, "fastapi"),
        ServiceSpec("auth", 8001, "django", "users_db"),
        ServiceSpec("models", 8002, "fastapi", "models_db"),
        ServiceSpec("registry", 8003, "django", "models_db"),
        ServiceSpec("training", 8004, "fastapi", "models_db"),
        ServiceSpec("inference", 8005, "fastapi"),
        ServiceSpec("features", 8006, "django", "metrics_db"),
        ServiceSpec("experiments", 8007, "django", "experiments_db"),
        ServiceSpec("pipeline", 8008, "fastapi", "metrics_db"),
        ServiceSpec("monitoring", 8009, "django", "metrics_db"),
        ServiceSpec("scheduler", 8010, "django", "experiments_db"),
        ServiceSpec("storage", 8011, "fastapi"),
        ServiceSpec("search", 8012, "fastapi"),
        ServiceSpec("notifications", 8013, "django", "users_db"),
        ServiceSpec("workers", 8014, "fastapi"),
    )
}
