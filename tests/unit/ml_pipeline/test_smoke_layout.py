from pathlib import Path

import pytest

from shared.services import SERVICES

pytestmark = pytest.mark.training


def test_fifteen_services_have_unique_ports():
    assert len(SERVICES) == 15
    assert len({s.port for s in SERVICES.values()}) == 15


def test_a_service_counts_as_built_exactly_when_its_package_exists():
    root = Path(__file__).resolve().parents[3]
    for spec in SERVICES.values():
        assert spec.built == (root / "services" / spec.name / "__init__.py").is_file(), spec.name


def test_celery_workers_run_for_the_celery_services_of_the_platform_table():
    workers = sorted(name for name, spec in SERVICES.items() if spec.celery_worker)
    assert workers == ["pipeline", "training", "workers"]
