"""Every copy of the service manifest (shared/services.py) agrees with it.

Most service tables derive from the manifest at import time; these are the ones that cannot:
the shipped scorer (it must not import code an agent can edit), pytest's marker list, the docs
tables, and the code layout the ``built`` flags describe. Not part of the scored suite.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import tomllib
from pathlib import Path

import django
import pytest

from environment import categories
from harness.schema import known_services
from shared.services import RESERVED_APP_LABELS, SERVICES, ServiceSpec, built_services

REPO_ROOT = Path(__file__).resolve().parents[1]
TABLE_ROW = re.compile(r"^\|(.+)\|\s*$")


def markdown_table(text: str, heading: str) -> list[list[str]]:
    """Return the cells of the first table after a heading line (header and rule dropped)."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        match = TABLE_ROW.match(line.strip())
        if match:
            rows.append([cell.strip().strip("`") for cell in match.group(1).split("|")])
        elif rows:
            break
    return [row for row in rows[1:] if not set(row[0]) <= {"-", ":"}]


def service_rows(spec: ServiceSpec) -> list[str]:
    """Return the service, framework, port and database cells a docs table gives a service."""
    return [spec.name, spec.framework_label, str(spec.port), spec.database or "—"]


def test_manifest_is_the_brief_table() -> None:
    table = {
        name: (spec.framework_label, spec.port, spec.database) for name, spec in SERVICES.items()
    }
    assert table == {
        "gateway": ("FastAPI", 8000, None),
        "auth": ("Django", 8001, "users_db"),
        "models": ("FastAPI", 8002, "models_db"),
        "registry": ("Django", 8003, "models_db"),
        "training": ("Celery + FastAPI", 8004, "models_db"),
        "inference": ("FastAPI", 8005, None),
        "features": ("Django", 8006, "models_db"),
        "pipeline": ("Celery + FastAPI", 8007, "models_db"),
        "experiments": ("Django", 8008, "experiments_db"),
        "monitoring": ("FastAPI", 8009, "metrics_db"),
        "scheduler": ("Django", 8010, "models_db"),
        "workers": ("Celery", 8011, None),
        "storage": ("FastAPI", 8012, "models_db"),
        "webhooks": ("Django", 8013, "models_db"),
        "admin": ("Django", 8014, "users_db"),
    }


def test_shipped_scorer_names_the_manifest_services_in_order() -> None:
    assert tuple(SERVICES) == categories.SERVICES


def test_pytest_markers_are_the_manifest_services_in_order() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    markers = config["tool"]["pytest"]["ini_options"]["markers"]
    assert [marker.split(":", 1)[0] for marker in markers] == list(SERVICES)


def test_harness_reads_the_manifest_service_names() -> None:
    assert known_services(REPO_ROOT) == set(SERVICES)


def test_built_flags_match_the_service_packages() -> None:
    packages = {
        path.parent.name
        for path in (REPO_ROOT / "services").glob("*/__init__.py")
        if path.parent.name != "django_project"
    }
    assert packages == {spec.name for spec in built_services()}


def test_django_app_labels_are_free_and_distinct() -> None:
    labels = [spec.app_label for spec in SERVICES.values() if spec.app_label]
    assert len(labels) == len(set(labels)) == 7
    contrib_dir = Path(importlib.import_module("django.contrib").__path__[0])
    contrib = {path.name for path in contrib_dir.iterdir() if path.is_dir()}
    assert not (set(labels) & (contrib | RESERVED_APP_LABELS))


@pytest.mark.parametrize(
    "spec", [s for s in built_services() if s.framework == "django"], ids=lambda s: s.name
)
def test_built_django_service_has_its_app_config_and_urlconf(spec: ServiceSpec) -> None:
    # Works with or without pytest-django (-p no:django): setup() is a no-op once populated.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "services.django_project.settings")
    django.setup()
    from django.apps import apps

    assert apps.get_app_config(spec.app_label).name == spec.package
    assert (REPO_ROOT / (spec.urlconf or "").replace(".", "/")).with_suffix(".py").is_file()


@pytest.mark.parametrize(
    "spec", [s for s in built_services() if s.framework == "fastapi"], ids=lambda s: s.name
)
def test_fastapi_settings_read_the_manifest_env_prefix(spec: ServiceSpec) -> None:
    settings = importlib.import_module(f"{spec.package}.config").Settings
    assert settings.model_config["env_prefix"] == spec.env_prefix


@pytest.mark.parametrize(
    ("document", "heading"),
    [("README.md", "## Services"), ("docs/AGENT_README.md", "## Architecture")],
)
def test_docs_service_tables_list_the_built_services(document: str, heading: str) -> None:
    rows = markdown_table((REPO_ROOT / document).read_text(encoding="utf-8"), heading)
    assert [row[:4] for row in rows] == [service_rows(spec) for spec in built_services()]


def test_django_settings_docstring_lists_every_django_service() -> None:
    source = (REPO_ROOT / "services" / "django_project" / "settings.py").read_text("utf-8")
    docstring = ast.get_docstring(ast.parse(source)) or ""
    rows = markdown_table(docstring, "App labels must not collide with `django.contrib`:")
    assert rows == [
        [s.name, s.app_label, s.database, s.urlconf, "yes" if s.built else "no"]
        for s in SERVICES.values()
        if s.framework == "django"
    ]
